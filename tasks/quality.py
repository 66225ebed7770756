"""Thin Prefect tasks of the data-quality run: plan it (and write its suites into the
great-expectations project), validate one suite (the suite streams its rows in chunks),
publish Data Docs, the history and the summary; and the lock a run holds
(zhicheng.quality.service does the work)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from prefect.cache_policies import NONE as NO_CACHE

from zhicheng.bootstrap import app_at
# The suites' names, the flow's parameter type (its Prefect form lists them):
from zhicheng.expectations import SuiteName  # noqa: F401
from zhicheng.quality import service as quality
# The pure views of a report the flow composes its result and artifact with:
from zhicheng.quality.service import brief, failures  # noqa: F401
from zhicheng.runtime import task


@contextmanager
def one_run(as_of: str | None, wait_seconds: float | None,
            on_wait: Callable[[Exception], None] | None = None) -> Iterator[None]:
    """Hold the workspace's GX project for this run (zhicheng.quality.service.one_run):
    wait for another run or file check up to `wait_seconds`, telling `on_wait` once."""
    with quality.one_run(app=app_at(as_of), wait_seconds=wait_seconds, on_wait=on_wait):
        yield


@task(name="quality-plan", cache_policy=NO_CACHE)
def plan(suite: str | None, batch_year: int | None, as_of: str | None) -> dict[str, Any]:
    app = app_at(as_of)
    run = quality.plan(app=app, suite=suite, batch_year=batch_year)
    quality.prepare(app=app, run=run)
    return run


@task(name="quality-suite", task_run_name="quality-{name}", cache_policy=NO_CACHE)
def validate_suite(run: dict[str, Any], name: str) -> dict[str, Any]:
    app = app_at(run["as_of"])
    return quality.validate_suite(app=app, run=run, name=name)


@task(name="quality-publish", cache_policy=NO_CACHE)
def publish(run: dict[str, Any], summaries: list[dict[str, Any]]) -> dict[str, Any]:
    app = app_at(run["as_of"])
    return quality.publish(app=app, run=run, summaries=summaries)
