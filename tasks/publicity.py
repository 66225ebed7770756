"""Thin Prefect tasks of publicity: find due windows, close and settle a chunk of them."""
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


def chunk_size(as_of: str | None) -> int:
    """Windows a chunk closes (config/publicity.yaml close_chunk_windows)."""
    return app_at(as_of).config.publicity.close_chunk_windows


@task(name="publicity-due-windows", cache_policy=NO_CACHE)
def due_windows(as_of: str | None) -> list[int]:
    app = app_at(as_of)
    with app.sessions() as session:
        return publicity.due_window_ids(session=session, now=app.clock.now())


@task(name="publicity-close-chunk", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1)
def close_chunk(window_ids: list[int], as_of: str | None) -> dict[str, Any]:
    """Close one chunk of due windows and settle their applications, in one transaction."""
    app = app_at(as_of)
    now = app.clock.now()
    with unit_of_work(app.sessions) as session:
        closed = publicity.close_windows(session=session, window_ids=window_ids, now=now)
        counts = publicity.settle(session=session, config=app.config, now=now, window_ids=closed)
    return {"closed_windows": closed, **counts, "calendar_gaps": review.take_calendar_gaps()}


@task(name="publicity-settle-held", cache_policy=NO_CACHE)
def settle_held(as_of: str | None) -> dict[str, Any]:
    """Held applications of closed windows whose objections have since been decided."""
    app = app_at(as_of)
    with unit_of_work(app.sessions) as session:
        counts = publicity.settle_held(session=session, config=app.config, now=app.clock.now())
    return {**counts, "calendar_gaps": review.take_calendar_gaps()}
