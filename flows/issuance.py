"""Flow `issue`: certificates for every approved application past its final publicity.

Chunks run one after another in application order, so a re-run after a crash numbers
the remaining applications exactly as an unbroken run would. Several runs at once
(deployment concurrency, more workers) split the work: a chunk skips applications
another worker holds (PostgreSQL SKIP LOCKED).
"""
from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from zhicheng.flows.progress import Progress
from zhicheng.tasks import issuance as tasks


@flow(name="issue", description="为已通过且公示期满的办件批量发放电子证书（可续跑，多进程安全）")
def issue(batch_year: int | None = None, committee: str | None = None, as_of: str | None = None,
          orphan_grace_seconds: float | None = None) -> dict[str, Any]:
    logger = get_run_logger()
    swept = tasks.sweep(as_of, orphan_grace_seconds)
    ids = tasks.plan(batch_year, committee, as_of)
    _, ctx = tasks.context(as_of)
    size = int(ctx.config.policy.chunks.get("issuance", 250))
    chunks = [ids[i:i + size] for i in range(0, len(ids), size)]
    logger.info("%d applications to issue in %d chunks of up to %d", len(ids), len(chunks), size)
    runs, progress = [], Progress("issue-progress", len(chunks), f"发证进度（{len(ids)} 件，{len(chunks)} 批）")
    for chunk in chunks:
        runs.append(tasks.issue_chunk(chunk, as_of))
        progress.step()
    summary = {
        "batch_year": batch_year, "committee": committee, "eligible": len(ids),
        "issued": sum(r["issued"] for r in runs), "registered": sum(r["registered"] for r in runs),
        "revoked": sum(r["revoked"] for r in runs), "skipped": sum(r["skipped"] for r in runs),
        "problems": [p for r in runs for p in r["problems"]],
        "runs": [{"run_id": r["run_id"], "merkle_root": r["merkle_root"],
                  "certificates": r["issued"] + r["registered"]} for r in runs if r["run_id"]],
        "orphans_removed": len(swept["orphans_removed"]), "missing_files": swept["missing_files"],
    }
    logger.info("issued %(issued)d, registered %(registered)d, revoked %(revoked)d", summary)
    create_table_artifact(key="issue", description="电子证书发放结果（每个发证批次的证书数和默克尔根）", table=[
        {"批次": r["run_id"], "证书数": r["certificates"], "默克尔根": r["merkle_root"]} for r in summary["runs"]]
        or [{"批次": "-", "证书数": 0, "默克尔根": "-"}])
    return summary
