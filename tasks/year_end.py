"""Thin Prefect tasks of the year-end run: which steps of a batch year are finished,
record one, and hold the year for one run (zhicheng.year_end.service keeps the book)."""
from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prefect.cache_policies import NONE as NO_CACHE

from zhicheng.bootstrap import app_at
from zhicheng.db.engine import unit_of_work
from zhicheng.locks import exclusive, waiting
from zhicheng.quality import service as quality
from zhicheng.runtime import in_prefect_run, task
# The pure pieces the flow composes task results with:
from zhicheng.year_end.service import STEP_NAMES, STEPS, headline, plain  # noqa: F401
from zhicheng.year_end import service as book


@task(name="year-end-finished-steps", cache_policy=NO_CACHE)
def finished_steps(batch_year: int, as_of: str | None) -> dict[str, dict[str, Any]]:
    """The year's finished steps with their summaries."""
    app = app_at(as_of)
    with app.sessions() as session:
        return book.finished_steps(session=session, batch_year=batch_year)


@task(name="year-end-mark-finished", cache_policy=NO_CACHE)
def mark_finished(batch_year: int, step: str, started_at: dt.datetime, summary: dict[str, Any],
                  as_of: str | None) -> None:
    """Record `step` finished now (a step another run recorded first keeps theirs)."""
    app = app_at(as_of)
    with unit_of_work(app.sessions) as session:
        book.mark_finished(session=session, batch_year=batch_year, step=step, started_at=started_at,
                           finished_at=app.clock.now(), summary=summary)


def preload_quality() -> None:
    """Start importing the quality step's libraries on a thread of this process: the
    import (great-expectations, ~5 s of CPU) then runs while the steps before it wait on
    layout workers, the database and the hall, instead of after them. The steps still
    run one after another; the quality step imports what is not there yet itself."""
    threading.Thread(target=quality.preload, name="preload-quality", daemon=True).start()


@contextmanager
def one_run(batch_year: int, as_of: str | None, wait_seconds: float | None) -> Iterator[None]:
    """Hold the year: in a Prefect run its global concurrency limit (a second deployment
    run waits, visibly) and the database lock; in a run without Prefect the database
    lock, waited for up to `wait_seconds`."""
    app = app_at(as_of)
    name, now = f"year-end:{batch_year}", app.clock.now()
    if in_prefect_run():
        from prefect.concurrency.sync import concurrency

        from zhicheng.prefect_limits import ensure_limit
        ensure_limit(f"year-end-{batch_year}", 1)
        with concurrency(f"year-end-{batch_year}", occupy=1, timeout_seconds=wait_seconds, strict=True), \
             exclusive(app.engine, name, now=now):
            yield
        return
    with waiting(app.engine, name, now=now, wait_seconds=wait_seconds):
        yield
