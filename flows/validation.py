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

from prefect import flow

from zhicheng.flows.naming import run_name
from zhicheng.flows.progress import Progress
from zhicheng.runners import chunk_runner
from zhicheng.runtime import run_logger, table_artifact
from zhicheng.tasks import education as education_tasks
from zhicheng.tasks import validation as tasks


@flow(name="validate", task_runner=chunk_runner(), flow_run_name=run_name("validate"),
      description="校验已接收申报的材料和填报信息（含学信网核验），有错误的退回网上办事大厅（每个版本只退回一次）")
def validate(as_of: str | None = None, limit: int | None = None) -> dict[str, Any]:
    """Validate the received applications.

    Args:
        as_of: 校验时刻（ISO 8601；空：现在），用于补跑或演示
        limit: 本次最多校验的办件数（空：全部待校验办件）
    """
    logger = run_logger()
    ids = tasks.plan(as_of, limit)
    chsi = _chsi_first(ids, as_of) if ids else {"asked": 0, "paused": False, "configured": True}
    province = _province_first(ids, as_of) if ids else {"asked": 0, "paused": False, "configured": True}
    size = tasks.chunk_size(as_of)
    chunks = [ids[i:i + size] for i in range(0, len(ids), size)]
    logger.info("待校验办件 %d 件，分 %d 批（每批至多 %d 件）", len(ids), len(chunks), size)
    progress = Progress("validate-progress", len(chunks), f"材料校验（{len(ids)} 件，{len(chunks)} 批）")
    futures = [tasks.validate_chunk.submit(chunk, as_of) for chunk in chunks]
    results = []
    for f in futures:
        results.append(f.result())
        progress.step()
    progress.finish()
    findings: Counter[str] = Counter()
    for r in results:
        findings.update(r["findings"])
    summary = {"pending": len(ids), "chunks": len(chunks), "chsi": chsi, "province": province,
               **{k: sum(r[k] for r in results) for k in ("applications", "passed", "returned", "skipped",
                                                          "awaiting_chsi", "awaiting_province", "files",
                                                          "bytes")},
               "findings": dict(sorted(findings.items()))}
    logger.info("已校验 %(applications)d 件：通过 %(passed)d 件，退回 %(returned)d 件，"
                "待学信核验 %(awaiting_chsi)d 件，待省平台查证 %(awaiting_province)d 件", summary)
    _artifact(summary)
    return summary


def _chsi_first(ids: list[int], as_of: str | None) -> dict[str, Any]:
    """The 学信 checks these applications still wait for (the education sync's chunks)."""
    logger = run_logger()
    todo = tasks.awaiting_chsi(ids, as_of)
    out = {"asked": len(todo), "paused": False, "configured": tasks.chsi_configured(as_of)}
    if not todo:
        return out
    if not out["configured"]:
        logger.warning("未配置学信网连接（ZHICHENG_CHSI_*）：%d 件办件待学信核验", len(todo))
        return out
    size = education_tasks.chunk_size(as_of)
    chunks = [todo[i:i + size] for i in range(0, len(todo), size)]
    progress = Progress("validate-chsi-progress", len(chunks), f"学信核验（{len(todo)} 件，{len(chunks)} 批）")
    for chunk in chunks:
        outage = education_tasks.sync_chunk(chunk, as_of)["outage"]
        progress.step()
        if outage:
            logger.warning("学信网不可用：待学信核验的办件保持已接收状态，下次运行继续")
            out["paused"] = True
            break
    progress.finish()
    return out


def _province_first(ids: list[int], as_of: str | None) -> dict[str, Any]:
    """补办/换发/历史登记: look their certificate numbers up (our registry, then the
    province by number) before they are judged; an outage leaves them received."""
    logger = run_logger()
    todo = tasks.awaiting_province(ids, as_of)
    out = {"asked": len(todo), "paused": False,
           "configured": tasks.province_configured(as_of)}
    if not todo:
        return out
    if not out["configured"]:
        logger.warning("未配置省一体化平台连接（ZHICHENG_PROVINCE_*）：%d 件补办/换发/历史登记办件待查证原证书",
                       len(todo))
        return out
    size = education_tasks.chunk_size(as_of)
    for i in range(0, len(todo), size):
        if tasks.lookup_chunk(todo[i:i + size], as_of)["outage"]:
            logger.warning("省一体化平台不可用：待查证原证书的办件保持已接收状态，下次运行继续")
            out["paused"] = True
            break
    return out


def counts(summary: dict[str, Any]) -> list[tuple[str, int]]:
    """The run's counts as staff read them (the artifact's table and the command's)."""
    return [*((label, summary[key])
              for key, label in (("applications", "已校验办件"), ("passed", "通过"), ("returned", "退回修改"),
                                 ("awaiting_chsi", "待学信核验"), ("awaiting_province", "待省平台查证"),
                                 ("skipped", "跳过（已由其他运行处理）"), ("files", "检查的材料文件"))),
            *((f"审核发现 {code}", n) for code, n in summary["findings"].items())]


def _artifact(summary: dict[str, Any]) -> None:
    rows = [{"项目": label, "数量": n} for label, n in counts(summary)]
    table_artifact(key="validate", table=rows,
                   description=f"材料校验：{summary['applications']} 件，通过 {summary['passed']}，"
                               f"退回修改 {summary['returned']}，待学信核验 {summary['awaiting_chsi']}")
