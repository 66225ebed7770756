"""Flow `issue`: certificates for every approved application past its final publicity.

Chunks run one after another in application order, so a re-run after a crash numbers
the remaining applications exactly as an unbroken run would. Several runs at once
(deployment concurrency, more workers) split the work: a chunk skips applications
another worker holds (PostgreSQL SKIP LOCKED).
"""
from __future__ import annotations

from typing import Any

from prefect import flow

from zhicheng.flows.naming import run_name
from zhicheng.flows.progress import Progress
from zhicheng.runtime import run_logger, table_artifact
from zhicheng.tasks import issuance as tasks
from zhicheng.tasks.context import require_batch_year


@flow(name="issue", flow_run_name=run_name("issue", "batch_year", "committee"),
      description="为已通过且公示期满的办件批量发放电子证书（可续跑，多进程安全）")
def issue(batch_year: int | None = None, committee: str | None = None, as_of: str | None = None,
          orphan_grace_seconds: float | None = None) -> dict[str, Any]:
    """Issue certificates for every approved application past its final publicity.

    Args:
        batch_year: 只发这一申报年度的证书（空：全部年度）
        committee: 只发这个评委会的证书（评委会编号，如 NJ-GC-ZJ；空：全部评委会）
        as_of: 发证时刻（ISO 8601；空：现在），用于补跑或演示
        orphan_grace_seconds: 中断运行留下的未登记证书文件，超过这么多秒才清理
            （空：config/certificates.yaml orphan_grace_minutes）
    """
    logger = run_logger()
    require_batch_year(batch_year)
    swept = tasks.sweep(as_of, orphan_grace_seconds)
    ids = tasks.plan(batch_year, committee, as_of)
    size = tasks.chunk_size(as_of)
    chunks = [ids[i:i + size] for i in range(0, len(ids), size)]
    logger.info("待发证办件 %d 件，分 %d 批（每批至多 %d 件）", len(ids), len(chunks), size)
    runs, progress = [], Progress("issue-progress", len(chunks), f"发证（{len(ids)} 件，{len(chunks)} 批）")
    for chunk in chunks:
        runs.append(tasks.issue_chunk(chunk, as_of))
        progress.step()
    progress.finish()
    summary = {
        "batch_year": batch_year, "committee": committee, "eligible": len(ids),
        "issued": sum(r["issued"] for r in runs), "registered": sum(r["registered"] for r in runs),
        "revoked": sum(r["revoked"] for r in runs), "skipped": sum(r["skipped"] for r in runs),
        "problems": [p for r in runs for p in r["problems"]],
        "runs": [{"run_id": r["run_id"], "merkle_root": r["merkle_root"],
                  "certificates": r["issued"] + r["registered"]} for r in runs if r["run_id"]],
        "orphans_removed": len(swept["orphans_removed"]), "missing_files": swept["missing_files"],
        "notes": tasks.calendar_gap_notes(g for r in runs for g in r["calendar_gaps"]),
    }
    logger.info("发证 %(issued)d 张，历史登记 %(registered)d 张，作废（被新版本替换）%(revoked)d 张", summary)
    for note in summary["notes"]:
        logger.warning(note)
    table_artifact(key="issue", description="；".join(["电子证书发放结果（每个发证批次的证书数和默克尔根）",
                                                      *summary["notes"]]), table=[
        {"发证批次": r["run_id"], "证书数": r["certificates"], "默克尔根": r["merkle_root"]} for r in summary["runs"]]
        or [{"发证批次": "-", "证书数": 0, "默克尔根": "-"}])
    return summary
