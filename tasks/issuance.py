"""Thin Prefect tasks of issuance: one task a chunk of applications, each chunk
committing its own transaction (zhicheng.issuance.service does the work)."""
from __future__ import annotations

from typing import Any

from prefect.cache_policies import NONE as NO_CACHE

from zhicheng.bootstrap import App
from zhicheng.config import require_committee
from zhicheng.db.engine import unit_of_work
from zhicheng.issuance import files as certificate_files, service as issuance
from zhicheng.review import service as review
# The pure words the flow says calendar gaps with:
from zhicheng.review.service import calendar_gap_notes  # noqa: F401
from zhicheng.runtime import task
from zhicheng.bootstrap import app_at
from zhicheng.tasks.context import retry_when_busy

# One IssueContext (keys, chunk font) per process and database, beside the one App of
# zhicheng.bootstrap.app_at: cutting a font for every chunk would cost more than the chunk.
_CONTEXTS: dict[object, issuance.IssueContext] = {}


def context(as_of: str | None) -> tuple[App, issuance.IssueContext]:
    """The process's App with a clock of this call's own (chunks on threads may run at
    different `as_of`), and the IssueContext of its database."""
    app = app_at(as_of)
    if app.engine not in _CONTEXTS:
        _CONTEXTS[app.engine] = issuance.IssueContext.for_app(app)
    return app, _CONTEXTS[app.engine]


def chunk_size(as_of: str | None) -> int:
    """Applications a chunk issues for (config/policy.yaml chunks.issuance)."""
    return app_at(as_of).config.policy.chunks.issuance


@task(name="issue-chunk", cache_policy=NO_CACHE, retries=3, retry_delay_seconds=1,
      retry_condition_fn=retry_when_busy)
def issue_chunk(application_ids: list[int], as_of: str | None = None) -> dict[str, Any]:
    app, ctx = context(as_of)
    with unit_of_work(app.sessions) as session:
        result = issuance.issue_chunk(session=session, ctx=ctx, application_ids=application_ids,
                                      now=app.clock.now())
    return {**result.as_dict(), "calendar_gaps": review.take_calendar_gaps()}


def require_scope(committee: str | None, issuer: str | None, as_of: str | None) -> None:
    """Refuse a committee or issuer code that picks nothing, before any work starts."""
    config = app_at(as_of).config
    require_committee(config, committee)
    issuance.require_issuer(config, issuer)


@task(name="issue-plan", cache_policy=NO_CACHE)
def plan(batch_year: int | None, committee: str | None, as_of: str | None, issuer: str | None = None) -> list[int]:
    app, ctx = context(as_of)
    with app.sessions() as session:
        return issuance.eligible_application_ids(session=session, config=app.config,
                                                 batch_year=batch_year, committee=committee, issuer=issuer)


@task(name="issue-issuers", cache_policy=NO_CACHE)
def issuers(batch_year: int | None, as_of: str | None) -> list[str]:
    """The issuers whose certificates are due: one run each when runs share the work."""
    app = app_at(as_of)
    with app.sessions() as session:
        return issuance.eligible_issuers(session=session, config=app.config, batch_year=batch_year)


def deployment(flow_path: str, as_of: str | None) -> str | None:
    """The name of the flow's deployment (config/deployments.yaml), if it has one."""
    from zhicheng.deployments import deployment_name
    return deployment_name(app_at(as_of).config, flow_path)


@task(name="sweep-orphan-files", cache_policy=NO_CACHE)
def sweep(as_of: str | None, grace_seconds: float | None = None) -> dict[str, Any]:
    app, ctx = context(as_of)
    grace = (grace_seconds if grace_seconds is not None
             else ctx.settings.orphan_grace_minutes * 60)
    with app.sessions() as session:
        removed = certificate_files.sweep_orphans(
            session=session, home=ctx.home, storage_dir=ctx.settings.storage_dir,
            grace_seconds=grace)
        missing = certificate_files.missing_files(session=session, home=ctx.home)
    return {"orphans_removed": removed, "missing_files": missing}
