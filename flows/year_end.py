"""Flow `year_end`: the whole end of a batch year, resumable, one run per year at a time.

Steps run as subflows with their own run names so the Prefect UI shows each one:
close due publicity windows, issue, push, reconcile, quality. Only one run per batch
year: a Prefect global concurrency limit (so a second deployment run waits in the UI)
and a database lock (so a second `zhicheng year-end` from a shell exits clearly).
"""
from __future__ import annotations

import datetime as dt
import inspect
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from prefect.concurrency.sync import concurrency
from prefect.utilities.importtools import import_object

from zhicheng.bootstrap import build_app
from zhicheng.clock import FixedClock, SystemClock
from zhicheng.db.engine import unit_of_work
from zhicheng.services import year_end as book
from zhicheng.services.locks import exclusive
from zhicheng.services.prefect_limits import ensure_limit

# Each step's flow, by module path (the same flows the deployments run on their own).
STEP_FLOWS = {
    "close_publicity": "zhicheng.flows.publicity.publicity_close_due",
    "issue": "zhicheng.flows.issuance.issue",
    "push": "zhicheng.flows.delivery.push",
    "reconcile": "zhicheng.flows.delivery.reconcile",
    "quality": "zhicheng.flows.quality.quality",
}


def _call(step_flow, run_name: str, **available: Any) -> Any:
    accepted = inspect.signature(step_flow.fn).parameters
    kwargs = {k: v for k, v in available.items() if k in accepted}
    return step_flow.with_options(flow_run_name=run_name)(**kwargs)

STATES = {"done": "完成", "already done": "此前已完成（跳过）"}


@flow(name="year_end", flow_run_name="year-end-{batch_year}",
      description="年终发证：关闭到期公示、发证、推送、核对、质量检查；可续跑，每个年度同时只运行一个。")
def year_end(batch_year: int, as_of: str | None = None,
             wait_seconds: float | None = None) -> dict[str, Any]:
    """`wait_seconds`: how long to wait for another run of the same year (None: as long as it takes)."""
    logger = get_run_logger()
    clock = FixedClock(dt.datetime.fromisoformat(as_of)) if as_of else SystemClock()
    app = build_app(clock=clock)
    ensure_limit(f"year-end-{batch_year}", 1)
    with concurrency(f"year-end-{batch_year}", occupy=1, timeout_seconds=wait_seconds,
                     strict=True), \
         exclusive(app.engine, f"year-end:{batch_year}", now=clock.now()):
        with app.sessions() as s:
            done = book.finished_steps(s, batch_year)
        rows = []
        for step in book.STEPS:
            if step in done:
                logger.info("step %s of %s already finished; skipping", step, batch_year)
                rows.append(_row(step, "already done", done[step]))
                continue
            started = clock.now()
            summary = _call(import_object(STEP_FLOWS[step]), f"year-end-{batch_year}-{step}",
                            batch_year=batch_year, as_of=as_of)
            with unit_of_work(app.sessions) as s:
                book.mark_finished(s, batch_year=batch_year, step=step, started_at=started,
                                   finished_at=clock.now(), summary=summary or {})
            rows.append(_row(step, "done", book.plain(summary or {})))
    create_table_artifact(key=f"year-end-{batch_year}", table=[
        {"步骤": book.STEP_NAMES[r["step"]], "状态": STATES[r["state"]], "结果": r["headline"]} for r in rows],
                          description=f"{batch_year} 年度年终发证各步骤")
    return {"batch_year": batch_year, "steps": rows}


def _row(step: str, state: str, summary: dict[str, Any]) -> dict[str, Any]:
    return {"step": step, "state": state, "headline": book.headline(step, summary), "summary": summary}
