"""Flow `issue`: certificates for every approved application past its final publicity.

Chunks run one after another in application order, so a re-run after a crash numbers
the remaining applications exactly as an unbroken run would. Several runs at once
(deployment concurrency, more workers) split the work: a chunk skips applications
another worker holds (PostgreSQL SKIP LOCKED). The year-end run on a work pool splits
it by issuer (`shared_by_issuer`): runs that never share a serial counter.
"""
from __future__ import annotations

import time
from typing import Any

from prefect import flow

from zhicheng.flows.naming import run_name
from zhicheng.flows.progress import Progress
from zhicheng.runtime import result_of, run_logger, table_artifact
from zhicheng.tasks import issuance as tasks
from zhicheng.tasks.context import require_batch_year


# The summary is persisted (PREFECT_LOCAL_STORAGE_PATH): the year-end run that started
# this run on another worker reads it back (docs/scale-out.md).
@flow(name="issue", flow_run_name=run_name("issue", "batch_year", "committee", "issuer"), persist_result=True,
      description="为已通过且公示期满的办件批量发放电子证书（可续跑，多进程安全）")
def issue(batch_year: int | None = None, committee: str | None = None, issuer: str | None = None,
          as_of: str | None = None, orphan_grace_seconds: float | None = None) -> dict[str, Any]:
    """Issue certificates for every approved application past its final publicity.

    Args:
        batch_year: 只发这一申报年度的证书（空：全部年度）
        committee: 只发这个评委会的证书（评委会编号，如 NJ-GC-ZJ；空：全部评委会）
        issuer: 只发这个发证机关编号的证书（其地区代码，即证书编号前六位，如 320100；
            “-”：找不到发证机关、将列为问题的办件；空：全部发证机关）
        as_of: 发证时刻（ISO 8601；空：现在），用于补跑或演示
        orphan_grace_seconds: 中断运行留下的未登记证书文件，超过这么多秒才清理
            （空：config/certificates.yaml orphan_grace_minutes）
    """
    logger = run_logger()
    require_batch_year(batch_year)
    tasks.require_scope(committee, issuer, as_of)
    swept = tasks.sweep(as_of, orphan_grace_seconds)
    ids = tasks.plan(batch_year, committee, as_of, issuer)
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


# How often the year-end looks at the runs it shares the issue step among.
POLL_SECONDS = 2.0


def shared_by_issuer(batch_year: int, as_of: str | None) -> dict[str, Any] | None:
    """The year-end's issue step shared among the work pool's workers: one run of the
    `issue` deployment per issuer with certificates due, all started at once (the
    deployment's concurrency limit queues the rest), their summaries merged. Runs split
    by issuer never share a serial counter and each numbers its applications in id
    order, so the registry is the one a single run leaves.

    None where there is nothing to share (this run is not a deployment's, as from a
    shell or the in-process demo; no `issue` deployment; one issuer): the caller runs
    the step in its own process."""
    from prefect.deployments import run_deployment
    from prefect.runtime import deployment
    if deployment.id is None:
        return None
    name = tasks.deployment(f"{issue.fn.__module__}.{issue.fn.__name__}", as_of)
    codes = tasks.issuers(batch_year, as_of) if name else []
    if len(codes) < 2:
        return None
    run_logger().info("发证分 %d 个发证机关并行运行（%s）", len(codes), "、".join(codes))
    runs: list[Any] = [run_deployment(f"{issue.name}/{name}", timeout=0, flow_run_name=f"issue-{batch_year}-{code}",
                                      parameters={"batch_year": batch_year, "issuer": code, "as_of": as_of})
                       for code in codes]   # sync here: each returns its created run
    states = _finished([r.id for r in runs])
    return merged([result_of(states[r.id]) for r in runs])   # raises for a run that failed


def _finished(ids: list[Any]) -> dict[Any, Any]:
    """Each run's final state, once every one has one (a failed one does not stop the wait:
    the year-end ends only when none of its runs is still working)."""
    from prefect.client.orchestration import get_client
    states: dict[Any, Any] = {}
    with get_client(sync_client=True) as client:
        while len(states) < len(ids):
            for run_id in ids:
                if run_id not in states and (state := client.read_flow_run(run_id).state) and state.is_final():
                    states[run_id] = state
            if len(states) < len(ids):
                time.sleep(POLL_SECONDS)
    return states


def merged(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """One summary of the step from its runs' summaries (each an `issue` summary)."""
    counts = ("eligible", "issued", "registered", "revoked", "skipped", "orphans_removed")
    return {"batch_year": summaries[0]["batch_year"], "committee": None,
            **{k: sum(s[k] for s in summaries) for k in counts},
            "problems": [p for s in summaries for p in s["problems"]],
            "runs": [r for s in summaries for r in s["runs"]],
            # every run reads the whole registry's missing files, and words the same gaps
            "missing_files": list(dict.fromkeys(m for s in summaries for m in s["missing_files"])),
            "notes": list(dict.fromkeys(n for s in summaries for n in s["notes"]))}
