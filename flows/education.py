"""Flow `education_sync`: verify declared education and uploaded 学信 reports with 学信.

Chunks run one after another; the 学信 connector keeps the rate limit and each chunk
bounds the requests in flight. When 学信 is unavailable the flow stops starting chunks
and ends normally (`paused`): nothing is marked failed, and the next run picks up every
application still unchecked or checked as unavailable.
"""
from __future__ import annotations

from typing import Any

from prefect import flow

from zhicheng.flows.progress import Progress
from zhicheng.flows.naming import run_name
from zhicheng.runtime import run_logger, table_artifact
from zhicheng.tasks import education as tasks

OUTCOMES = {"verified": "一致", "mismatched": "不一致", "not_held": "学信网无此记录", "unavailable": "学信网不可用"}


@flow(name="education_sync", flow_run_name=run_name("education-sync"),
      description="向学信网核验学历学位信息和学历证书电子注册备案表（学信网不可用时暂停，下次继续）")
def education_sync(as_of: str | None = None, limit: int | None = None) -> dict[str, Any]:
    """Verify declared education with 学信.

    Args:
        as_of: 核验时刻（ISO 8601；空：现在），用于补跑或演示
        limit: 本次最多核验的办件数（空：全部待核验办件）
    """
    logger = run_logger()
    ids = tasks.plan(as_of, limit)
    size = tasks.chunk_size(as_of)
    chunks = [ids[i:i + size] for i in range(0, len(ids), size)]
    logger.info("待学信核验办件 %d 件，分 %d 批", len(ids), len(chunks))
    summary: dict[str, Any] = {"pending": len(ids), "checked": 0, "fetched": 0, "reused": 0,
                               "outcomes": {}, "paused": False}
    progress = Progress("education-sync-progress", len(chunks), f"学信核验（{len(ids)} 件，{len(chunks)} 批）")
    for chunk in chunks:
        got = tasks.sync_chunk(chunk, as_of)
        summary["checked"] += got["applications"]
        summary["fetched"] += got["fetched"]
        summary["reused"] += got["reused"]
        for outcome, n in got["outcomes"].items():
            summary["outcomes"][outcome] = summary["outcomes"].get(outcome, 0) + n
        progress.step()
        if got["outage"]:
            summary["paused"] = True
            logger.warning("学信网不可用：暂停核验，下次运行从中断处继续")
            break
    progress.finish()
    _artifact(summary)
    return summary


def counts(summary: dict[str, Any]) -> list[tuple[str, int]]:
    """The run's counts as staff read them (the artifact's table and the command's)."""
    return [("待核验办件", summary["pending"]), ("已核验办件", summary["checked"]),
            ("向学信网查询", summary["fetched"]), ("复用未过期的答复", summary["reused"]),
            *((f"结果：{OUTCOMES.get(outcome, outcome)}", n) for outcome, n in sorted(summary["outcomes"].items()))]


def _artifact(summary: dict[str, Any]) -> None:
    rows = [{"项目": label, "数量": n} for label, n in counts(summary)]
    note = "；学信网不可用，已暂停，下次运行继续" if summary["paused"] else ""
    table_artifact(key="education-sync", table=rows,
                   description=f"学信核验：{summary['checked']} 件{note}")

