"""Flow `year_end`: the whole end of a batch year, resumable, one run per year at a time.

Steps run as subflows with their own run names so the Prefect UI shows each one:
close due publicity windows, issue, push, reconcile, quality. On a work pool the issue
step is one run of the `issue` deployment per issuer, shared among the workers. Only
one run per batch year: a Prefect global concurrency limit (so a second deployment run
waits in the UI) and a database lock (so a second `zhicheng year-end` from a shell
exits clearly).
"""
from __future__ import annotations

import inspect
from typing import Any

from prefect import flow
from prefect.utilities.importtools import import_object

from zhicheng.clock import clock_at, local
from zhicheng.flows import attention, issuance
from zhicheng.flows.naming import scheduled_start
from zhicheng.flows.progress import Progress
from zhicheng.runtime import in_prefect_run, run_flow, run_logger, table_artifact
from zhicheng.tasks import year_end as tasks
from zhicheng.tasks.context import require_batch_year

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
    return run_flow(step_flow, run_name=run_name, **kwargs)


def _step(step: str, batch_year: int, as_of: str | None) -> Any:
    """The step's summary: its flow run as a subflow here, or, for the issue step of a
    run on a work pool, the issue runs it shares among the workers."""
    if step == "issue" and (summary := issuance.shared_by_issuer(batch_year, as_of)) is not None:
        return summary
    return _call(import_object(STEP_FLOWS[step]), f"year-end-{batch_year}-{step}", batch_year=batch_year, as_of=as_of)


STATES = {"done": "完成", "already done": "此前已完成（跳过）"}
# Each step's stage in flows.attention (what in its summary needs a person).
STEP_STAGES = {"close_publicity": "publicity", "issue": "issue", "push": "push", "reconcile": "reconcile",
               "quality": "quality"}


def run_year(batch_year: int | None, as_of: str | None) -> int:
    """The batch year a run is for: the one given, else (a scheduled run: its cron carries
    no parameters) the year of its scheduled start in Asia/Shanghai, else of `as_of` or now."""
    if batch_year is not None:
        return batch_year
    if in_prefect_run():
        return local(scheduled_start()).year
    return local(clock_at(as_of).now()).year


def _run_name() -> str:
    from prefect.runtime import flow_run
    params = flow_run.parameters or {}
    return f"year-end-{run_year(params.get('batch_year'), params.get('as_of'))}"


@flow(name="year_end", flow_run_name=_run_name,
      description="年终发证：关闭到期公示、发证、推送、核对、质量检查；可续跑，每个年度同时只运行一个。")
def year_end(batch_year: int | None = None, as_of: str | None = None,
             wait_seconds: float | None = None) -> Any:
    """The end of a batch year; steps that need a person end the run Failed, unknown years are refused.

    Args:
        batch_year: 申报年度（空：定时运行的计划时间所在年度，按北京时间；须在 config/policy.yaml batches 中）
        as_of: 运行时刻（如 2026-12-28 20:00，不带时区即北京时间；空：现在），用于补跑或演示
        wait_seconds: 同一年度另有运行时最多等待的秒数（空：一直等到它结束）
    """
    logger = run_logger()
    clock = clock_at(as_of)
    batch_year = run_year(batch_year, as_of)
    require_batch_year(batch_year)
    logger.info("%s 年度年终发证开始", batch_year)
    with tasks.one_run(batch_year, as_of, wait_seconds):
        done = tasks.finished_steps(batch_year, as_of)
        if "quality" not in done:
            tasks.preload_quality()
        rows = []
        progress = Progress(f"year-end-{batch_year}-progress", len(tasks.STEPS), f"{batch_year} 年度年终发证",
                            unit="步")
        for step in tasks.STEPS:
            if step in done:
                logger.info("%s 年度的%s步骤此前已完成，跳过", batch_year, tasks.STEP_NAMES[step])
                rows.append(_row(step, "already done", done[step]))
                progress.step()
                continue
            progress.step(0, description=f"{batch_year} 年度年终发证：{tasks.STEP_NAMES[step]}")
            started = clock.now()
            summary = _step(step, batch_year, as_of)
            tasks.mark_finished(batch_year, step, started, summary or {}, as_of)
            rows.append(_row(step, "done", tasks.plain(summary or {})))
            progress.step()
        progress.finish()
    table_artifact(key=f"year-end-{batch_year}", table=[
        {"步骤": tasks.STEP_NAMES[r["step"]], "状态": STATES[r["state"]], "结果": r["headline"]} for r in rows],
                   description=f"{batch_year} 年度年终发证各步骤")
    return attention.conclude("year-end", batch_year, {"batch_year": batch_year, "steps": rows}, needs(rows))


def needs(rows: list[dict[str, Any]]) -> list[str]:
    """What the steps this run did left for a person (flows.attention), step by step."""
    return [f"{tasks.STEP_NAMES[r['step']]}：{reason}" for r in rows if r["state"] == "done"
            for reason in attention.reasons(STEP_STAGES[r["step"]], r["summary"])]


def _row(step: str, state: str, summary: dict[str, Any]) -> dict[str, Any]:
    return {"step": step, "state": state, "headline": tasks.headline(step, summary), "summary": summary}
