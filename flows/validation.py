"""Flow `validate`: check the materials and fields of every received application and
return failing ones to the hall (through the outbox, once per revision).

学信 first: the received applications whose verdict waits for 学信 (declared education
or an uploaded 学信 report without a definite answer for their revision) are checked
with the education sync's own chunk task, one chunk after another as that flow does (the
connector keeps 学信's rate limit). An outage stops that step; those applications stay
received and the next run takes them up. Nobody is returned for a 学信 outage.

Then validation chunks (config/policy.yaml chunks.validation) run in parallel on the task
runner (zhicheng.runners: threads here, Dask for scale-out); the inspection itself runs
in each chunk's worker subprocess, so chunks use every core. Each chunk commits its own
results; a re-run takes up only what is still received.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from zhicheng.runners import chunk_runner
from zhicheng.services.education_fetch import chsi_configured
from zhicheng.tasks import education as education_tasks
from zhicheng.tasks import validation as tasks
from zhicheng.tasks.context import app_for


@flow(name="validate", task_runner=chunk_runner(),
      description="校验已接收申报的材料和填报信息（含学信网核验），有错误的退回网上办事大厅（每个版本只退回一次）")
def validate(as_of: str | None = None, limit: int | None = None) -> dict[str, Any]:
    logger = get_run_logger()
    ids = tasks.plan(as_of, limit)
    chsi = _chsi_first(ids, as_of) if ids else {"asked": 0, "paused": False, "configured": True}
    size = int(app_for(as_of).config.policy.chunks.get("validation", 200))
    chunks = [ids[i:i + size] for i in range(0, len(ids), size)]
    logger.info("%d applications to validate in %d chunks of up to %d", len(ids), len(chunks), size)
    futures = [tasks.validate_chunk.submit(chunk, as_of) for chunk in chunks]
    results = [f.result() for f in futures]
    findings = Counter()
    for r in results:
        findings.update(r["findings"])
    summary = {"pending": len(ids), "chunks": len(chunks), "chsi": chsi,
               **{k: sum(r[k] for r in results) for k in ("applications", "passed", "returned", "skipped",
                                                          "awaiting_chsi", "files", "bytes")},
               "findings": dict(sorted(findings.items()))}
    logger.info("validated %(applications)d: %(passed)d passed, %(returned)d returned, "
                "%(awaiting_chsi)d waiting for 学信", summary)
    _artifact(summary)
    return summary


def _chsi_first(ids: list[int], as_of: str | None) -> dict[str, Any]:
    """The 学信 checks these applications still wait for (the education sync's chunks)."""
    logger = get_run_logger()
    todo = tasks.awaiting_chsi(ids, as_of)
    out = {"asked": len(todo), "paused": False, "configured": chsi_configured(app_for(as_of).settings)}
    if not todo:
        return out
    if not out["configured"]:
        logger.warning("学信 is not configured (ZHICHENG_CHSI_*): %d applications wait for it", len(todo))
        return out
    size = int(app_for(as_of).config.policy.chunks.get("education", 100))
    for i in range(0, len(todo), size):
        if education_tasks.sync_chunk(todo[i:i + size], as_of)["outage"]:
            logger.warning("学信 unavailable: the applications waiting for it stay received until the next run")
            out["paused"] = True
            break
    return out


def _artifact(summary: dict[str, Any]) -> None:
    rows = [{"项目": label, "代码": key, "数量": summary[key]}
            for key, label in (("applications", "已校验申报"), ("passed", "通过"), ("returned", "退回"),
                               ("awaiting_chsi", "等待学信网核验"),
                               ("skipped", "跳过（已由其他运行处理）"), ("files", "检查文件"))]
    rows += [{"项目": "问题", "代码": code, "数量": n} for code, n in summary["findings"].items()]
    create_table_artifact(key="validate", table=rows,
                          description=f"材料校验：{summary['applications']} 件，通过 {summary['passed']}，"
                                      f"退回 {summary['returned']}，等待学信网 {summary['awaiting_chsi']}")
