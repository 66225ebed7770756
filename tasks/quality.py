"""Thin Prefect tasks of the data-quality run: plan it (and write its suites into the
great-expectations project), validate one suite (the suite streams its rows in chunks),
publish Data Docs, the history and the summary
(zhicheng.quality.service does the work)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prefect.cache_policies import NONE as NO_CACHE

from zhicheng.bootstrap import App, build_app
from zhicheng.clock import FixedClock, SystemClock, typed_time
from zhicheng.quality import service as quality
from zhicheng.runtime import task


@contextmanager
def _app(as_of: str | None) -> Iterator[App]:
    app = build_app(clock=FixedClock(typed_time(as_of, what="as_of")) if as_of else SystemClock())
    try:
        yield app
    finally:
        app.engine.dispose()


@task(name="quality-plan", cache_policy=NO_CACHE)
def plan(suite: str | None, batch_year: int | None, as_of: str | None) -> dict[str, Any]:
    with _app(as_of) as app:
        run = quality.plan(app=app, suite=suite, batch_year=batch_year)
        quality.prepare(app=app, run=run)
        return run


@task(name="quality-suite", task_run_name="quality-{name}", cache_policy=NO_CACHE)
def validate_suite(run: dict[str, Any], name: str) -> dict[str, Any]:
    with _app(run["as_of"]) as app:
        return quality.validate_suite(app=app, run=run, name=name)


@task(name="quality-publish", cache_policy=NO_CACHE)
def publish(run: dict[str, Any], summaries: list[dict[str, Any]]) -> dict[str, Any]:
    with _app(run["as_of"]) as app:
        return quality.publish(app=app, run=run, summaries=summaries)
