"""Thin Prefect tasks of delivery: plan, one task a province batch or a chunk of hall
items, reconcile one scope (zhicheng.delivery does the work)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect.cache_policies import NONE as NO_CACHE

from zhicheng.bootstrap import App, app_at  # one App per process and database
from zhicheng.db.engine import unit_of_work
from zhicheng.delivery import (service as delivery, hall as delivery_hall,
                               reconcile as delivery_reconcile)
from zhicheng.runtime import task
# The pure summaries and words the flows compose task results with:
from zhicheng.delivery.hall import HallOutcome, merge  # noqa: F401
from zhicheng.delivery.reconcile import PROBLEM_WORDS, summarize  # noqa: F401
from zhicheng.delivery.service import ANSWER_WORDS, OUTCOME_WORDS, TARGET_WORDS  # noqa: F401
from zhicheng.delivery.service import Plan, summarize_province  # noqa: F401
from zhicheng.locks import AlreadyRunning

# Extra keyword arguments for the connectors (tests: `sleep` to record back-off waits).
CLIENT_OPTIONS: dict[str, Any] = {}


def hall_chunk_size(as_of: str | None) -> int:
    return app_at(as_of).config.policy.chunks.push_hall


def province_client(app: App):
    from zhicheng.connectors.province import ProvinceClient
    return ProvinceClient.from_settings(app.settings, app.config, **CLIENT_OPTIONS)


def hall_client(app: App):
    from zhicheng.connectors.hall import HallClient
    return HallClient.from_settings(app.settings, app.config, **CLIENT_OPTIONS)


def _plan_busy(task, task_run, state) -> bool:
    try:
        state.result()
    except AlreadyRunning:
        return True
    except Exception:
        return False
    return False


@task(name="push-plan", cache_policy=NO_CACHE, retries=5, retry_delay_seconds=2,
      retry_condition_fn=_plan_busy)
def plan(as_of: str | None) -> dict[str, Any]:
    app = app_at(as_of)
    size, _ = delivery.policy(app.config)
    found = delivery.plan_exclusively(engine=app.engine, sessions=app.sessions, now=app.clock.now(),
                                      batch_size=size)
    return {"batches": found.batches, "formed": found.formed, "superseded": found.superseded,
            "waiting": found.waiting}


@task(name="push-province-batch", cache_policy=NO_CACHE)
def send_batch(key: str, as_of: str | None) -> dict[str, Any]:
    app = app_at(as_of)
    _, max_attempts = delivery.policy(app.config)
    with province_client(app) as client:
        return delivery.send_batch(app.sessions, client=client, key=key, now=app.clock.now(),
                                   max_attempts=max_attempts).as_dict()


@task(name="push-hall-plan", cache_policy=NO_CACHE)
def hall_due(as_of: str | None) -> list[int]:
    app = app_at(as_of)
    with app.sessions() as session:
        return delivery_hall.due_items(session=session, now=app.clock.now())


@task(name="push-hall-chunk", cache_policy=NO_CACHE)
def send_hall_chunk(item_ids: list[int], as_of: str | None) -> dict[str, Any]:
    app = app_at(as_of)
    _, max_attempts = delivery.policy(app.config)
    with hall_client(app) as client:
        return delivery_hall.send_chunk(app.sessions, client=client, item_ids=item_ids, now=app.clock.now(),
                                        max_attempts=max_attempts,
                                        in_flight=app.config.policy.outbox.hall_requests_in_flight).as_dict()


@task(name="push-problems", cache_policy=NO_CACHE)
def problems(as_of: str | None) -> dict[str, Any]:
    app = app_at(as_of)
    with app.sessions() as session:
        return delivery.problems(session=session)


@task(name="reconcile-scopes", cache_policy=NO_CACHE)
def scopes(batch_year: int | None, as_of: str | None) -> list[tuple[str, int]]:
    app = app_at(as_of)
    with app.sessions() as session:
        return delivery_reconcile.scopes(session=session, batch_year=batch_year)


@task(name="reconcile-scope", cache_policy=NO_CACHE)
def check_scope(region: str, year: int, full: bool, as_of: str | None) -> dict[str, Any]:
    app = app_at(as_of)
    with province_client(app) as client, unit_of_work(app.sessions) as session:
        return delivery_reconcile.check_scope(session=session, client=client, region=region, year=year,
                                              full=full, now=app.clock.now()).as_dict()


@task(name="reconcile-by-number", cache_policy=NO_CACHE)
def check_by_number(as_of: str | None) -> dict[str, Any]:
    """Every certificate a 补办/换发 replaced, and every 历史登记's, by number."""
    app = app_at(as_of)
    with province_client(app) as client, unit_of_work(app.sessions) as session:
        return delivery_reconcile.check_by_number(session=session, client=client, now=app.clock.now()).as_dict()


@task(name="reconcile-report", cache_policy=NO_CACHE)
def write_report(summary: dict[str, Any], as_of: str | None) -> str:
    app = app_at(as_of)
    return str(delivery_reconcile.write_report(summary, reports_dir=Path(app.workspace("reports")),
                                               now=app.clock.now()))
