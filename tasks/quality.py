"""Thin Prefect tasks of the data-quality run: plan it (and write its suites into the
great-expectations project), validate one suite (the suite streams its rows in chunks),
publish Data Docs, the history and the summary
(zhicheng.quality.service does the work)."""
from __future__ import annotations

from typing import Any

from prefect.cache_policies import NONE as NO_CACHE

from zhicheng.bootstrap import app_at
from zhicheng.quality import service as quality
from zhicheng.runtime import task


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
