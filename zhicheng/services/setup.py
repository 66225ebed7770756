"""Setting up a workspace: the database schema, reference data, the calendar."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from zhicheng.bootstrap import App, build_app
from zhicheng.config import ConfigError, get_config
from zhicheng.db import migrate
from zhicheng.db.engine import unit_of_work
from zhicheng.services.reference import sync_reference_data


def upgrade_database(app: App | None = None) -> dict:
    """Migrate to head and mirror config's reference data; idempotent."""
    app = app or build_app()
    url = app.settings.resolved_database_url
    migrate.upgrade(url, engine=app.engine)
    with unit_of_work(app.sessions) as session:
        counts = sync_reference_data(session, app.config)
    return {"database": app.engine.url.render_as_string(hide_password=True),
            "revision": ",".join(migrate.current_heads(url)), **counts}


@lru_cache(maxsize=4)
def _calendar(directory: str):
    from zhicheng.domain.calendar import calendar_from_package
    supplements = []
    for path in sorted(Path(directory, "calendar").glob("*.yaml")):
        try:
            supplements.append(yaml.safe_load(path.read_text(encoding="utf-8")))
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    try:
        return calendar_from_package(supplements)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{directory}/calendar: {exc}") from None


def working_calendar(directory: Path | str | None = None):
    """The official working-day calendar: the package's data plus config/calendar/."""
    return _calendar(str(directory or get_config().directory))
