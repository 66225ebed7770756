"""Flow `education_sync`: verify declared education and uploaded 学信 reports with 学信.

Chunks run one after another; the 学信 connector keeps the rate limit and each chunk
bounds the requests in flight. When 学信 is unavailable the flow stops starting chunks
and ends normally (`paused`): nothing is marked failed, and the next run picks up every
application still unchecked or checked as unavailable.
"""
from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from zhicheng.flows.progress import Progress
from zhicheng.tasks import education as tasks

OUTCOMES = {"verified": "一致", "mismatched": "不一致", "not_held": "学信网无此记录", "unavailable": "学信网不可用"}


@flow(name="education_sync", description="向学信网核验学历学位信息和学历证书电子注册备案表（学信网不可用时暂停，下次继续）")
def education_sync(as_of: str | None = None, limit: int | None = None) -> dict[str, Any]:
    logger = get_run_logger()
    ids = tasks.plan(as_of, limit)
    size = int(tasks.context(as_of).config.policy.chunks.get("education", 100))
    chunks = [ids[i:i + size] for i in range(0, len(ids), size)]
    logger.info("%d applications to check with 学信 in %d chunks", len(ids), len(chunks))
    summary: dict[str, Any] = {"pending": len(ids), "checked": 0, "fetched": 0, "reused": 0,
                               "outcomes": {}, "paused": False}
    progress = Progress("education-sync-progress", len(chunks), f"学信核验进度（{len(ids)} 件）")
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
            logger.warning("学信 unavailable: pausing; the next run continues where this one stopped")
            break
    _artifact(summary)
    return summary


def _artifact(summary: dict[str, Any]) -> None:
    rows = [{"项目": "待核验办件", "数量": summary["pending"]}, {"项目": "已核验办件", "数量": summary["checked"]},
            {"项目": "向学信网查询", "数量": summary["fetched"]}, {"项目": "复用未过期的答复", "数量": summary["reused"]}]
    rows += [{"项目": f"结果：{OUTCOMES.get(outcome, outcome)}", "数量": n}
             for outcome, n in sorted(summary["outcomes"].items())]
    note = "；学信网不可用，已暂停，下次运行继续" if summary["paused"] else ""
    create_table_artifact(key="education-sync", table=rows,
                          description=f"学信核验：{summary['checked']} 件{note}")

