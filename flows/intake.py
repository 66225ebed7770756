"""Flow `intake`: pull new submissions from the hall, store them with their files, then
the applicants' cancellations (取消申请, zhicheng.intake.cancellation).

Pages are taken one after another from the stored cursor (the hall's order is the
order of submission); a page's files download in parallel. One intake at a time: a
second run exits with a clear message. A hall outage pauses the run; the next run
continues from the last committed page. A run killed mid-download leaves temporary
files; the next run deletes them first (under the lock, so they are a dead run's).
"""
from __future__ import annotations

from typing import Any

from prefect import flow

from zhicheng.flows.naming import run_name
from zhicheng.flows.progress import Progress
from zhicheng.runtime import run_logger, table_artifact
from zhicheng.tasks import intake as tasks

OUTCOMES = ("new", "resubmission", "invalid", "duplicate", "stale", "held")
# What staff read for each count (docs/glossary.md); the keys stay in --json.
WORDS = {"pages": "拉取页数", "received": "收到的办件", "new": "新申报", "resubmission": "退回后重新提交",
         "invalid": "数据不合规（退回）", "duplicate": "重复投递", "stale": "旧版本（忽略）",
         "held": "新版本暂存（办件不在可修改环节）", "files": "下载的材料文件", "bytes": "材料字节数"}


@flow(name="intake", flow_run_name=run_name("intake"),
      description="从网上办事大厅拉取新提交的申报及其材料（游标续传，至少一次投递下幂等）")
def intake(as_of: str | None = None, max_pages: int | None = None, page_size: int | None = None) -> dict[str, Any]:
    """Pull new submissions from the hall.

    Args:
        as_of: 接收时刻（ISO 8601；空：现在），用于补跑或演示
        max_pages: 本次最多拉取的页数（空：拉完为止）
        page_size: 每页办件数，1 至 500（空：config/policy.yaml chunks.intake_page）
    """
    logger = run_logger()
    size = page_size or tasks.page_size(as_of)
    summary: dict[str, Any] = {"pages": 0, "received": 0, "files": 0, "bytes": 0, "paused": None,
                               **{o: 0 for o in OUTCOMES}}
    with tasks.one_run(as_of):
        if stale := tasks.remove_partial_files(as_of):
            logger.info("删除了中断运行留下的 %d 个未写完的文件", stale)
        progress = Progress("intake-progress", max_pages, "办件接收（从网上办事服务大厅拉取）", unit="页")
        while max_pages is None or summary["pages"] < max_pages:
            got = tasks.pull_page(as_of, size)
            if got.get("paused"):
                summary["paused"] = got["paused"]
                logger.warning("网上办事服务大厅不可用，暂停接收（下次运行从断点继续）：%s", got["paused"])
                break
            summary["pages"] += 1
            for k in ("received", "files", "bytes"):
                summary[k] += got[k]
            for outcome, n in got["outcomes"].items():
                summary[outcome] = summary.get(outcome, 0) + n
            progress.step(description=f"办件接收：已收到 {summary['received']} 件")
            if got["next_cursor"] is None:
                break
        progress.finish()
        if not summary["paused"]:   # after the submissions: a cancellation names a known one
            summary["cancellations"] = cancelled = tasks.pull_cancellations(as_of)
            if cancelled["accepted"] or cancelled["refused"]:
                logger.info("取消申请：同意 %(accepted)d 件，不同意 %(refused)d 件（已过不可取消环节）", cancelled)
    logger.info("办件接收：收到 %(received)d 件，新申报 %(new)d 件，重新提交 %(resubmission)d 件，"
                "数据不合规 %(invalid)d 件，重复投递 %(duplicate)d 件", summary)
    table_artifact(key="intake", description="网上办事服务大厅办件接收结果", table=[
        {"项目": WORDS[k], "数量": summary[k]} for k in ("pages", "received", *OUTCOMES, "files", "bytes")])
    return summary
