"""Thin Prefect tasks of validation: the pending list, and one task a chunk of
applications (zhicheng.validation.service does the work; each chunk commits its own
transaction and runs its own inspector worker)."""
from __future__ import annotations

from typing import Any

from prefect.cache_policies import NONE as NO_CACHE

from zhicheng.issuance import lifecycle
from zhicheng.runtime import task
from zhicheng.bootstrap import app_at
from zhicheng.tasks.context import retry_when_busy
from zhicheng.validation import service as validation


def chunk_size(as_of: str | None) -> int:
    """Applications a chunk validates (config/policy.yaml chunks.validation)."""
    return app_at(as_of).config.policy.chunks.validation


def chsi_configured(as_of: str | None) -> bool:
    """Whether 学信 can be asked (ZHICHENG_CHSI_*)."""
    from zhicheng.education.fetch import chsi_configured
    return chsi_configured(app_at(as_of).settings)


def province_configured(as_of: str | None) -> bool:
    """Whether the province can be asked (ZHICHENG_PROVINCE_*)."""
    return lifecycle.province_configured(app_at(as_of).settings)


@task(name="validation-plan", cache_policy=NO_CACHE)
def plan(as_of: str | None, limit: int | None = None) -> list[int]:
    app = app_at(as_of)
    with app.sessions() as session:
        return validation.pending(session=session, limit=limit)


@task(name="validation-awaiting-chsi", cache_policy=NO_CACHE)
def awaiting_chsi(application_ids: list[int], as_of: str | None = None) -> list[int]:
    app = app_at(as_of)
    with app.sessions() as session:
        return validation.awaiting_chsi(session=session, application_ids=application_ids, files_root=app.settings.home)


@task(name="validation-chunk", cache_policy=NO_CACHE, retries=3, retry_delay_seconds=1,
      retry_condition_fn=retry_when_busy)
def validate_chunk(application_ids: list[int], as_of: str | None = None) -> dict[str, Any]:
    app = app_at(as_of)
    return validation.validate_chunk(sessions=app.sessions, application_ids=application_ids, config=app.config,
                                     now=app.clock.now(), files_root=app.settings.home)


@task(name="validation-awaiting-province", cache_policy=NO_CACHE)
def awaiting_province(application_ids: list[int], as_of: str | None = None) -> list[int]:
    app = app_at(as_of)
    with app.sessions() as session:
        return lifecycle.awaiting(session=session, application_ids=application_ids)


@task(name="validation-province-lookup", cache_policy=NO_CACHE, retries=3, retry_delay_seconds=1,
      retry_condition_fn=retry_when_busy)
def lookup_chunk(application_ids: list[int], as_of: str | None = None) -> dict[str, Any]:
    """Look one chunk's prior/historic certificate numbers up (our registry, the province)."""
    from zhicheng.db.engine import unit_of_work
    from zhicheng.tasks.delivery import province_client
    app = app_at(as_of)
    with province_client(app) as client, unit_of_work(app.sessions) as session:
        return lifecycle.lookup_chunk(session=session, client=client, application_ids=application_ids,
                                      now=app.clock.now()).as_dict()
