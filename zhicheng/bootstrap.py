"""The one place that builds the real set of adapters (database, clock, config,
connectors) or the test set: flows, tasks and the CLI all start here."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from zhicheng.clock import Clock, SystemClock, clock_at
from zhicheng.config import Config, get_config
from zhicheng.db.engine import make_engine, session_factory
from zhicheng.private_files import close_to_others, private_dir, restrict_umask
from zhicheng.settings import Settings, get_settings


@dataclass
class App:
    settings: Settings
    config: Config
    engine: Engine
    clock: Clock = field(default_factory=SystemClock)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return session_factory(self.engine)

    def workspace(self, *parts: str):
        """A folder inside ZHICHENG_HOME, created (0700) on first use."""
        return private_dir(self.settings.home.joinpath(*parts))


def build_app(*, settings: Settings | None = None, clock: Clock | None = None,
              engine: Engine | None = None) -> App:
    restrict_umask()  # every entry point (flows, tasks, the CLI) builds its App here
    settings = settings or get_settings()
    if engine is None:
        # A workspace made before it was private is closed to others at once (what is
        # inside is tightened by `zhicheng db upgrade`).
        close_to_others(settings.home)
        engine = make_engine(settings.resolved_database_url, schema=settings.database_schema)
    return App(settings=settings, config=get_config(settings.config_dir),
               clock=clock or SystemClock(), engine=engine)


# One App a process and database: its engine (and connection pool) is shared by every
# task, flow and command of the process; each caller gets a copy with its own clock.
_APPS: dict[tuple, App] = {}


def app_at(as_of: str | None = None, *, what: str = "as_of") -> App:
    """The App of this process for the database of the current settings, on a clock of
    the caller's own (fixed at `as_of`, or the system's): what tasks, flows and the CLI
    use. Chunks on threads may run at different moments, so the shared App is never
    given a clock; the copy is. Settings and config are read now (tests change them
    between commands); the engine is made once and closed by `close_apps`."""
    settings = get_settings()
    key = (str(settings.home), settings.resolved_database_url, settings.database_schema)
    if key not in _APPS:
        _APPS[key] = build_app(settings=settings)
    return replace(_APPS[key], settings=settings, config=get_config(settings.config_dir),
                   clock=clock_at(as_of, what=what))


def close_apps() -> None:
    """Close every App's connections and forget it: for a process done with its
    databases (tests, where each database lives as long as its test)."""
    while _APPS:
        _, app = _APPS.popitem()
        app.engine.dispose()
