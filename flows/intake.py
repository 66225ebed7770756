"""Flow `intake`: pull new submissions from the hall, store them with their files.

Pages are taken one after another from the stored cursor (the hall's order is the
order of submission); a page's files download in parallel. One intake at a time: a
second run exits with a clear message. A hall outage pauses the run; the next run
continues from the last committed page. A run killed mid-download leaves temporary
files; the next run deletes them first (under the lock, so they are a dead run's).
"""
from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from zhicheng.services.locks import exclusive
from zhicheng.tasks import intake as tasks
from zhicheng.tasks.context import app_for

OUTCOMES = ("new", "resubmission", "invalid", "duplicate", "stale", "held")


@flow(name="intake", description="从网上办事大厅拉取新提交的申报及其材料（游标续传，至少一次投递下幂等）")
def intake(as_of: str | None = None, max_pages: int | None = None, page_size: int | None = None) -> dict[str, Any]:
    logger = get_run_logger()
    app = app_for(as_of)
    size = int(page_size or app.config.policy.chunks.get("intake_page", 200))
    summary: dict[str, Any] = {"pages": 0, "received": 0, "files": 0, "bytes": 0, "paused": None,
                               **{o: 0 for o in OUTCOMES}}
    with exclusive(app.engine, "intake", now=app.clock.now()):
        if stale := tasks.remove_partial_files(as_of):
            logger.info("removed %d half-written files of an interrupted run", stale)
        while max_pages is None or summary["pages"] < max_pages:
            got = tasks.pull_page(as_of, size)
            if got.get("paused"):
                summary["paused"] = got["paused"]
                logger.warning("hall unavailable, pausing: %s", got["paused"])
                break
            summary["pages"] += 1
            for k in ("received", "files", "bytes"):
                summary[k] += got[k]
            for outcome, n in got["outcomes"].items():
                summary[outcome] = summary.get(outcome, 0) + n
            if got["next_cursor"] is None:
                break
    logger.info("intake: %(received)d received, %(new)d new, %(resubmission)d resubmissions, "
                "%(invalid)d invalid, %(duplicate)d duplicates", summary)
    create_table_artifact(key="intake", description="网上大厅申报接收结果", table=[
        {"项目": k, "数量": summary[k]} for k in ("pages", "received", *OUTCOMES, "files", "bytes")])
    return summary
