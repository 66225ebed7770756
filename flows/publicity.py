"""Flow `publicity_close_due`: close every publicity window whose end has passed.

Applications without an open objection move on (through the review service's decide,
actor "system"), those with one are held, an upheld objection removes its application.
Safe to run any number of times a day; scheduled daily by `zhicheng serve`
(config/deployments.yaml) and run as the first step of `year_end`.
"""
from __future__ import annotations

from typing import Any

from prefect import flow

from zhicheng.flows import attention
from zhicheng.flows.naming import run_name
from zhicheng.flows.progress import Progress
from zhicheng.runtime import run_logger, table_artifact
from zhicheng.tasks import publicity as tasks


@flow(name="publicity_close_due", flow_run_name=run_name("publicity-close-due", "batch_year"),
      description="关闭到期的公示，无异议的办件进入下一环节")
def publicity_close_due(as_of: str | None = None, batch_year: int | None = None) -> Any:
    """Close every due publicity window; held applications end the run Failed for a person.

    Args:
        as_of: 关闭时刻（ISO 8601；空：现在）：此前到期的公示都关闭
        batch_year: 只用于标注运行（年终发证时的年度）；到期的公示不论年度都关闭
    """
    logger = run_logger()
    closed = tasks.close_windows(as_of)
    ids = tasks.unsettled_entries(as_of)
    size = tasks.chunk_size(as_of)
    chunks = [ids[i:i + size] for i in range(0, len(ids), size)]
    progress = Progress("publicity-close-progress", len(chunks),
                        f"关闭到期公示 {len(closed)} 个，结算名单 {len(ids)} 人（{len(chunks)} 批）")
    runs = []
    for chunk in chunks:
        runs.append(tasks.settle_chunk(chunk, as_of))
        progress.step()
    progress.finish()
    summary: dict[str, Any] = {"batch_year": batch_year, "closed_windows": closed}
    for key in ("passed", "held", "removed", "withdrawn", "problems"):
        summary[key] = sum(r[key] for r in runs)
    summary["notes"] = tasks.calendar_gap_notes(g for r in runs for g in r["calendar_gaps"])
    logger.info("关闭公示 %d 个：进入下一环节 %d 件，因异议暂缓 %d 件，异议成立移出 %d 件，已撤回（取消申请） %d 件，"
                "未能推进 %d 件", len(summary["closed_windows"]), summary["passed"], summary["held"],
                summary["removed"], summary["withdrawn"], summary["problems"])
    for note in summary["notes"]:
        logger.warning(note)
    table_artifact(key="publicity-close-due", description="；".join(["到期公示关闭结果", *summary["notes"]]),
                   table=[{"关闭的公示": "、".join(map(str, summary["closed_windows"])) or "-",
                           "进入下一环节": summary["passed"], "因异议暂缓": summary["held"],
                           "异议成立移出": summary["removed"], "已撤回（取消申请）": summary["withdrawn"],
                           "未能推进（见日志）": summary["problems"]}])
    return attention.conclude("publicity", attention.day(as_of), summary)
