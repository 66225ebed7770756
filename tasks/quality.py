"""Thin Prefect tasks of the data-quality run: plan it, validate one suite (the suite
streams its rows in chunks), publish Data Docs and the summary
(zhicheng.services.quality does the work)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prefect import task
from prefect.cache_policies import NONE as NO_CACHE

from zhicheng.bootstrap import App, build_app
from zhicheng.clock import FixedClock, SystemClock
from zhicheng.services import quality


@contextmanager
def _app(as_of: str | None) -> Iterator[App]:
    app = build_app(clock=FixedClock(dt.datetime.fromisoformat(as_of)) if as_of else SystemClock())
    try:
        yield app
    finally:
        app.engine.dispose()


@task(name="quality-plan", cache_policy=NO_CACHE)
def plan(suite: str | None, batch_year: int | None, as_of: str | None) -> dict[str, Any]:
    with _app(as_of) as app:
        return quality.plan(app=app, suite=suite, batch_year=batch_year)


@task(name="quality-suite", task_run_name="quality-{name}", cache_policy=NO_CACHE)
def validate_suite(run: dict[str, Any], name: str) -> dict[str, Any]:
    with _app(run["as_of"]) as app:
        return quality.validate_suite(app=app, run=run, name=name)


@task(name="quality-publish", cache_policy=NO_CACHE)
def publish(run: dict[str, Any], summaries: list[dict[str, Any]]) -> dict[str, Any]:
    with _app(run["as_of"]) as app:
        return quality.publish(app=app, run=run, summaries=summaries)
