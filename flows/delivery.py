"""Flows `push` and `reconcile`: the outbox to the province and the hall, and the check
that the province holds what the local registry holds.

`push`: plan (supersede, cut batches, keys committed before sending), then one task a
province batch in queue order and one task a chunk of hall items; when a system stops
answering, its remaining work waits for the next run (nothing is marked failed). Table
artifacts show what was sent and what the province rejected; dead letters raise an
alert artifact, and while dead letters or rejected records wait for a person the run
ends Failed with them as its message (flows.attention). `reconcile`: one task a scope
(issuer region, year), an XLSX report in ZHICHENG_HOME/reports and a table artifact of
the differences.
"""
from __future__ import annotations

from typing import Any

from prefect import flow

from zhicheng.flows import attention
from zhicheng.flows.naming import run_name
from zhicheng.flows.progress import Progress
from zhicheng.runtime import markdown_artifact, run_logger, table_artifact
from zhicheng.tasks import delivery as tasks
from zhicheng.tasks.context import require_batch_year
from zhicheng.tasks.delivery import ANSWER_WORDS, OUTCOME_WORDS, TARGET_WORDS

ARTIFACT_ROWS = 1000  # a table artifact beyond this is unreadable; the XLSX has them all


@flow(name="push", flow_run_name=run_name("push"),
      description="向省一体化平台推送证书记录、向网上办事大厅发送退回和通知（幂等，失败退避重试，死信告警）")
def push(as_of: str | None = None) -> Any:
    """Deliver the outbox to the province and the hall.

    Args:
        as_of: 推送时刻（ISO 8601；空：现在），用于补跑或演示
    """
    logger = run_logger()
    planned = tasks.plan(as_of)
    outcomes = []
    progress = Progress("push-progress", len(planned["batches"]),
                        f"推送到省一体化平台（{len(planned['batches'])} 批）")
    for key in planned["batches"]:
        outcomes.append(tasks.send_batch(key, as_of))
        progress.step()
        if outcomes[-1]["outcome"] in ("retry", "dead"):
            logger.warning("省一体化平台不可用：%s；余下的批次下次运行继续", outcomes[-1]["error"])
            break
    progress.finish()
    province = tasks.summarize_province(tasks.Plan(**{k: planned[k] for k in ("formed", "superseded", "waiting")}),
                                  outcomes)
    hall = _push_hall(as_of)
    problems = tasks.problems(as_of)
    summary = {"province": province, "hall": hall, "problems": problems}
    _artifacts(summary)
    logger.info("省一体化平台：%d 批送达 %d 条记录（%s），拒收 %d 条；网上办事服务大厅：送达 %d 条；"
                "待人工处理：拒收 %d 条，死信 %d 条", len(outcomes), province["sent"],
                "，".join(f"{ANSWER_WORDS.get(k, k)} {n}" for k, n in sorted(province["counts"].items())) or "无",
                len(province["rejected"]), hall["sent"], problems["rejected"], problems["dead"])
    return attention.conclude("push", attention.day(as_of), summary)


def _push_hall(as_of: str | None) -> dict[str, Any]:
    ids = tasks.hall_due(as_of)
    size = tasks.hall_chunk_size(as_of)
    total = tasks.HallOutcome()
    chunks = [ids[i:i + size] for i in range(0, len(ids), size)]
    progress = Progress("push-hall-progress", len(chunks), f"发送到网上办事服务大厅（{len(ids)} 条，{len(chunks)} 批）")
    for chunk in chunks:
        tasks.merge(total, tasks.send_hall_chunk(chunk, as_of))
        progress.step()
        if total.paused:
            run_logger().warning("网上办事服务大厅不可用：余下的退回和通知下次运行继续发送")
            break
    progress.finish()
    return total.as_dict()


def _artifacts(summary: dict[str, Any]) -> None:
    province, problems = summary["province"], summary["problems"]
    table_artifact(key="push-province", description="本次推送到省一体化平台的批次", table=[
        {"批次": b["batch_key"], "条数": b["records"], "第几次": b["attempts"],
         "结果": OUTCOME_WORDS.get(b["outcome"], b["outcome"]),
         **{ANSWER_WORDS[s]: b["counts"].get(s, 0) for s in ("created", "updated", "unchanged", "rejected")},
         "错误": b["error"] or ""} for b in province["batches"]] or [{"结果": "没有待推送的记录"}])
    if province["rejected"]:
        table_artifact(key="push-rejected", description="省一体化平台拒收的证书记录（请核对后更正）",
                              table=[{"证书编号": r["certificate_no"], "版本": r["version"], "错误": r["error"]}
                                     for r in province["rejected"][:ARTIFACT_ROWS]])
    dead = [i for i in problems["items"] if i["status"] == "dead"]
    if dead:
        lines = [f"# 死信告警：{problems['dead']} 条记录多次发送失败，已停止重试", "",
                 "处理：确认对方系统恢复后运行 `zhicheng push --retry-dead`。", "",
                 "| id | 目标 | 对象 | 尝试 | 最后错误 |", "| --- | --- | --- | --- | --- |"]
        lines += [f"| {i['id']} | {TARGET_WORDS.get(i['target'], i['target'])} | {i['subject']} "
                  f"| {i['attempts']} | {i['error']} |" for i in dead]
        markdown_artifact(key="push-dead-letters", markdown="\n".join(lines), description="推送死信告警")


@flow(name="reconcile", flow_run_name=run_name("reconcile", "batch_year"),
      description="核对本地证书库与省一体化平台（先比条数，不一致或要求时逐条比对），缺失和过期的记录重新排队推送")
def reconcile(batch_year: int | None = None, as_of: str | None = None, full: bool = False) -> dict[str, Any]:
    """Compare the local registry with the province's.

    Args:
        batch_year: 只核对这一年度的证书（空：全部年度）
        as_of: 核对时刻（ISO 8601；空：现在），用于补跑或演示
        full: 逐条比对每个范围（否：先比条数，不一致时才逐条比对）
    """
    logger = run_logger()
    require_batch_year(batch_year)
    scopes = tasks.scopes(batch_year, as_of)
    progress = Progress("reconcile-progress", len(scopes), f"与省一体化平台核对（{len(scopes)} 个范围）", unit="个")
    results = []
    for region, year in scopes:
        results.append(tasks.check_scope(region, year, full, as_of))
        progress.step()
    progress.finish()
    by_number = tasks.check_by_number(as_of)   # replaced and 历史登记 certificates
    if by_number["local"]:
        results.append(by_number)
    summary = tasks.summarize(results, batch_year=batch_year, full=full)
    summary["report"] = tasks.write_report(summary, as_of)
    rows = summary["rows"]
    table_artifact(key="reconcile", description=(
        f"本地与省平台核对：{len(summary['scopes'])} 个范围，差异 {len(rows)} 条，重新排队 {summary['requeued']} 条"
        + (f"（仅列前 {ARTIFACT_ROWS} 条，完整清单见 {summary['report']}）" if len(rows) > ARTIFACT_ROWS else "")),
        table=[{"证书编号": r["certificate_no"], "地区": r["issuer_region_code"], "年度": r["year"],
                "问题": tasks.PROBLEM_WORDS[r["problem"]], "说明": r["detail"]} for r in rows[:ARTIFACT_ROWS]]
        or [{"结果": "一致"}])
    summary["rows_total"] = len(rows)
    summary["rows"] = rows[:ARTIFACT_ROWS]
    found = "，".join(f"{tasks.PROBLEM_WORDS.get(k, k)} {n}" for k, n in summary["differences"].items() if n)
    logger.info("核对了 %d 个范围（发证地区、年度）：差异 %s，重新排队 %d 条；报表 %s", len(summary["scopes"]),
                found or "无", summary["requeued"], summary["report"])
    return summary
