"""Thin Prefect tasks of the 学信 education sync: one task a chunk of applications
(zhicheng.education.service does the work; each chunk commits its own transaction)."""
from __future__ import annotations

from typing import Any

from prefect.cache_policies import NONE as NO_CACHE

from zhicheng.education import service as education
from zhicheng.runtime import task
from zhicheng.bootstrap import app_at  # one App per process and database


def chunk_size(as_of: str | None) -> int:
    """Applications a chunk checks (config/policy.yaml chunks.education)."""
    return app_at(as_of).config.policy.chunks.education


@task(name="education-plan", cache_policy=NO_CACHE)
def plan(as_of: str | None, limit: int | None = None) -> list[int]:
    app = app_at(as_of)
    with app.sessions() as session:
        return education.pending(session=session, limit=limit)


@task(name="education-chunk", cache_policy=NO_CACHE)
def sync_chunk(application_ids: list[int], as_of: str | None = None) -> dict[str, Any]:
    from zhicheng.education.fetch import gateway_from_settings
    app = app_at(as_of)
    with gateway_from_settings(app.settings, app.config) as gateway:
        return education.sync_chunk(sessions=app.sessions, gateway=gateway, application_ids=application_ids,
                                    config=app.config, now=app.clock.now(), files_root=app.settings.home)
