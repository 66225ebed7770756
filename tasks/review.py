"""Thin Prefect tasks of the overdue report: find open steps, judge a chunk, write the XLSX."""
from __future__ import annotations

from typing import Any

from prefect.cache_policies import NONE as NO_CACHE

from zhicheng.db.engine import unit_of_work
from zhicheng.review import overdue as review_overdue
# The pure ordering and table the flow composes its result and artifact with:
from zhicheng.review.overdue import sort_rows, table  # noqa: F401
from zhicheng.runtime import task
from zhicheng.bootstrap import app_at


@task(name="review-open-steps", cache_policy=NO_CACHE)
def open_steps(as_of: str | None) -> dict[str, Any]:
    """The open steps' ids, the chunk size and the moment every chunk judges against."""
    app = app_at(as_of)
    with app.sessions() as session:
        ids = review_overdue.open_step_ids(session=session)
    return {"ids": ids, "chunk": review_overdue.chunk_size(app.config), "now": app.clock.now().isoformat()}


@task(name="review-overdue-chunk", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1)
def overdue_chunk(step_ids: list[int], now: str) -> list[dict[str, Any]]:
    """Overdue rows of one chunk of steps; deadlines filled in are committed."""
    from zhicheng.workspace import working_calendar
    app = app_at(now)
    with unit_of_work(app.sessions) as session:
        return review_overdue.overdue_rows(session=session, step_ids=step_ids, config=app.config,
                                           now=app.clock.now(), calendar=working_calendar(app.config.directory))


@task(name="review-overdue-report", cache_policy=NO_CACHE)
def write_report(rows: list[dict[str, Any]], now: str) -> str:
    app = app_at(now)
    return str(review_overdue.write_report(rows, home=app.settings.home, now=app.clock.now()))
