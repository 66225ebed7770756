"""What tasks share beyond their App (which is zhicheng.bootstrap.app_at: one per
process and database, with the clock of the call's `as_of`): the retry condition of
chunk tasks, and the check of a flow's batch-year parameter."""
from __future__ import annotations

from sqlalchemy.exc import OperationalError

from zhicheng import config


def retry_when_busy(task, task_run, state) -> bool:
    """Retry condition of chunk tasks: SQLite has one writer, and a chunk that met
    another writer's lock committed nothing and is safe to redo. Anything else is for
    a human."""
    try:
        state.result()
    except OperationalError as exc:
        return "locked" in str(exc) or "deadlock" in str(exc)
    except Exception:
        return False
    return False


def require_batch_year(batch_year: int | None) -> None:
    """Refuse a batch year config/policy.yaml has no batch for (None: every year), before
    a flow runs a task: config.UnknownBatchYear."""
    config.require_batch_year(config.get_config(), batch_year)
