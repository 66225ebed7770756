"""The App a task works with: one per process and database (an engine per chunk would
leak connections), with the clock the flow run was given (`as_of`) or the system's."""
from __future__ import annotations

from dataclasses import replace

from sqlalchemy.exc import OperationalError

from zhicheng.bootstrap import App, build_app
from zhicheng.clock import FixedClock, SystemClock, typed_time
from zhicheng.settings import get_settings

_APPS: dict[tuple, App] = {}


def app_for(as_of: str | None) -> App:
    settings = get_settings()
    key = (str(settings.home), settings.resolved_database_url, settings.database_schema,
           str(settings.config_dir))
    if key not in _APPS:
        _APPS[key] = build_app(settings=settings)
    clock = FixedClock(typed_time(as_of, what="as_of")) if as_of else SystemClock()
    return replace(_APPS[key], clock=clock)  # shares engine and sessions, own clock


def close_apps() -> None:
    """Close every App's connections and forget it: for a process done with its
    databases (tests, where each database lives as long as its test)."""
    while _APPS:
        _, app = _APPS.popitem()
        app.engine.dispose()


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
