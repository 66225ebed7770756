"""Thin Prefect tasks of issuance: one task a chunk of applications, each chunk
committing its own transaction (zhicheng.services.issuance does the work)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import task
from prefect.cache_policies import NONE as NO_CACHE

from zhicheng.bootstrap import App, build_app
from zhicheng.clock import FixedClock, SystemClock
from zhicheng.db.engine import unit_of_work
from zhicheng.services import certificate_files, issuance
from zhicheng.settings import get_settings
from zhicheng.tasks.context import retry_when_busy

# One App and one IssueContext (keys, chunk font) per process and database: building
# an engine or cutting a font for every chunk would cost more than the chunk.
_CACHE: dict[tuple, tuple[App, issuance.IssueContext]] = {}


def context(as_of: str | None) -> tuple[App, issuance.IssueContext]:
    settings = get_settings()
    key = (str(settings.home), settings.resolved_database_url, settings.database_schema)
    if key not in _CACHE:
        app = build_app(settings=settings)
        _CACHE[key] = (app, issuance.IssueContext.for_app(app))
    app, ctx = _CACHE[key]
    app.clock = FixedClock(dt.datetime.fromisoformat(as_of)) if as_of else SystemClock()
    return app, ctx


@task(name="issue-chunk", cache_policy=NO_CACHE, retries=3, retry_delay_seconds=1,
      retry_condition_fn=retry_when_busy)
def issue_chunk(application_ids: list[int], as_of: str | None = None) -> dict[str, Any]:
    app, ctx = context(as_of)
    with unit_of_work(app.sessions) as session:
        result = issuance.issue_chunk(session, ctx=ctx, application_ids=application_ids,
                                      now=app.clock.now())
    return result.as_dict()


@task(name="issue-plan", cache_policy=NO_CACHE)
def plan(batch_year: int | None, committee: str | None, as_of: str | None) -> list[int]:
    app, ctx = context(as_of)
    with app.sessions() as session:
        return issuance.eligible_application_ids(session, config=app.config,
                                                 batch_year=batch_year, committee=committee)


@task(name="sweep-orphan-files", cache_policy=NO_CACHE)
def sweep(as_of: str | None, grace_seconds: float | None = None) -> dict[str, Any]:
    app, ctx = context(as_of)
    grace = (grace_seconds if grace_seconds is not None
             else float(ctx.settings.get("orphan_grace_minutes", 30)) * 60)
    with app.sessions() as session:
        removed = certificate_files.sweep_orphans(
            session, home=ctx.home, storage_dir=ctx.settings.get("storage_dir", "certificates"),
            grace_seconds=grace)
        missing = certificate_files.missing_files(session, home=ctx.home)
    return {"orphans_removed": removed, "missing_files": missing}
