"""Thin Prefect tasks of publicity: close the due windows, then settle their entries a
chunk at a time."""
from __future__ import annotations

from typing import Any

from prefect.cache_policies import NONE as NO_CACHE

from zhicheng.db.engine import unit_of_work
from zhicheng.publicity import service as publicity
from zhicheng.review import service as review
# The pure words the flow says calendar gaps with:
from zhicheng.review.service import calendar_gap_notes  # noqa: F401
from zhicheng.runtime import task
from zhicheng.bootstrap import app_at
from zhicheng.tasks.context import retry_when_busy


def chunk_size(as_of: str | None) -> int:
    """Entries a chunk settles (config/policy.yaml chunks.publicity)."""
    return app_at(as_of).config.policy.chunks.publicity


@task(name="publicity-close-windows", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1,
      retry_condition_fn=retry_when_busy)
def close_windows(as_of: str | None) -> list[int]:
    """Mark every due window closed, in one transaction: a few rows a day."""
    app = app_at(as_of)
    now = app.clock.now()
    with unit_of_work(app.sessions) as session:
        return publicity.close_windows(session=session, now=now,
                                       window_ids=publicity.due_window_ids(session=session, now=now))


@task(name="publicity-unsettled-entries", cache_policy=NO_CACHE)
def unsettled_entries(as_of: str | None) -> list[int]:
    """Entries of closed windows not yet settled: those just closed, held ones, and any a
    stopped run left."""
    with app_at(as_of).sessions() as session:
        return publicity.unsettled_entry_ids(session=session)


@task(name="publicity-settle-chunk", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1,
      retry_condition_fn=retry_when_busy)
def settle_chunk(entry_ids: list[int], as_of: str | None) -> dict[str, Any]:
    """Settle one chunk of entries by their objections, in one transaction."""
    app = app_at(as_of)
    with unit_of_work(app.sessions) as session:
        counts = publicity.settle(session=session, config=app.config, now=app.clock.now(), entry_ids=entry_ids)
    return {**counts, "calendar_gaps": review.take_calendar_gaps()}
