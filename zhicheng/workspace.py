"""Setting up a workspace: the database schema, reference data, the calendar."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path


from zhicheng.bootstrap import App, app_at
from zhicheng.config import ConfigError, get_config
from zhicheng.db import migrate, roles
from zhicheng.db.engine import make_engine, session_factory, unit_of_work
from zhicheng.domain.calendar import WorkingCalendar, calendar_from_data
from zhicheng.private_files import private_sqlite_file, tighten
from zhicheng.reference import sync_reference_data


def upgrade_database(app: App | None = None, *, runtime_role: str | None = None) -> dict:
    """Migrate to head, grant the runtime role its privileges, mirror config's
    reference data and make a workspace of an earlier version private
    (docs/privacy.md); idempotent.

    With ZHICHENG_DATABASE_OWNER_URL the migrations run as that owner and the role of
    ZHICHENG_DATABASE_URL (or `runtime_role`) is the runtime role; without it, the one
    URL migrates, and `runtime_role`, if given, is granted."""
    app = app or app_at()
    owner_url = app.settings.owner_database_url
    owner = make_engine(owner_url, schema=app.settings.database_schema) if owner_url else app.engine
    url = owner_url or app.settings.resolved_database_url
    try:
        if (runtime_role or owner_url) and {owner.dialect.name, app.engine.dialect.name} != {"postgresql"}:
            raise roles.RolesRefused("an owner URL and a runtime role are for PostgreSQL: SQLite has no roles "
                                     "(its audit triggers hold for every writer)")
        role = runtime_role or (roles.current_role(app.engine) if owner_url else None)
        if role:
            with owner.connect() as conn:
                roles.check_role(conn, role)
        migrate.upgrade(url, engine=owner)
        if role:
            with owner.begin() as conn:
                roles.grant_runtime(conn, role)
                problems = roles.privilege_problems(conn, role)
            if problems:
                raise roles.RolesRefused(
                    f"runtime role {role!r} can still change the audit trail after the grants, through PUBLIC "
                    f"or a role it belongs to: {'; '.join(problems)} ({roles.GUIDE})")
        with unit_of_work(session_factory(owner)) as session:
            counts = sync_reference_data(session=session, config=app.config)
        database = owner.url.render_as_string(hide_password=True)
    finally:
        if owner is not app.engine:
            owner.dispose()
    made_private = tighten(app.settings.home)
    if app.engine.dialect.name == "sqlite":   # the database may live outside the workspace
        private_sqlite_file(app.engine.url.database)
    return {"database": database, "revision": ",".join(migrate.current_heads(url)),
            "runtime_role": role, "audit_trail": _protection(owner.dialect.name, role), **counts,
            "made_private": made_private}


def _protection(dialect: str, role: str | None) -> str:
    if role:
        return f"append-only by triggers; the runtime role {role} can neither alter the tables nor disable them"
    if dialect == "postgresql":
        return ("append-only by triggers only: the application's role owns the tables and can disable them "
                "(set ZHICHENG_DATABASE_OWNER_URL; docs/audit-trail.md)")
    return "append-only by triggers"


def calendar_from_package(supplements: Iterable[Mapping] = ()) -> WorkingCalendar:
    """chinese-calendar's data, plus supplements (one mapping per year) from config."""
    import chinese_calendar.constants as cc
    return calendar_from_data(cc.holidays, cc.workdays, supplements)


@lru_cache(maxsize=4)
def _calendar(directory: str):
    supplements = [year.model_dump() for year in get_config(directory).calendar]
    try:
        return calendar_from_package(supplements)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{directory}/calendar: {exc}") from None


def working_calendar(directory: Path | str | None = None):
    """The official working-day calendar: the package's data plus config/calendar/."""
    return _calendar(str(directory or get_config().directory))
