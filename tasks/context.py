"""What chunk tasks share beyond their App (which is zhicheng.bootstrap.app_at: one per
process and database, with the clock of the call's `as_of`)."""
from __future__ import annotations

from sqlalchemy.exc import OperationalError


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
