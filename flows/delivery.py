"""Flows `push` and `reconcile`: the outbox to the province and the hall, and the check
that the province holds what the local registry holds.

`push`: plan (supersede, cut batches, keys committed before sending), then one task a
province batch in queue order and one task a chunk of hall items; when a system stops
answering, its remaining work waits for the next run (nothing is marked failed). Table
artifacts show what was sent and what the province rejected; dead letters raise an
alert artifact. `reconcile`: one task a scope (issuer region, year), an XLSX report in
ZHICHENG_HOME/reports and a table artifact of the differences.
"""
from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from zhicheng.tasks import delivery as tasks

ARTIFACT_ROWS = 1000  # a table artifact beyond this is unreadable; the XLSX has them all


@flow(name="push", description="向省一体化平台推送证书记录、向网上办事大厅发送退回和通知（幂等，失败退避重试，死信告警）")
def push(as_of: str | None = None) -> dict[str, Any]:
    logger = get_run_logger()
    planned = tasks.plan(as_of)
    outcomes = []
    for key in planned["batches"]:
        outcomes.append(tasks.send_batch(key, as_of))
        if outcomes[-1]["outcome"] in ("retry", "dead"):
            logger.warning("省一体化平台 unavailable: %s; the next run goes on", outcomes[-1]["error"])
            break
    province = tasks.summarize_province(tasks.Plan(**{k: planned[k] for k in ("formed", "superseded", "waiting")}),
                                  outcomes)
    hall = _push_hall(as_of)
    problems = tasks.problems(as_of)
    summary = {"province": province, "hall": hall, "problems": problems}
    _artifacts(summary)
    logger.info("province: %d records sent in %d batches (%s), %d rejected; hall: %d sent; "
                "open problems: %d rejected, %d dead letters", province["sent"], len(outcomes),
                province["counts"], len(province["rejected"]), hall["sent"], problems["rejected"],
                problems["dead"])
    return summary


def _push_hall(as_of: str | None) -> dict[str, Any]:
    ids = tasks.hall_due(as_of)
    size = tasks.hall_chunk_size(as_of)
    total = tasks.HallOutcome()
    for i in range(0, len(ids), size):
        tasks.merge(total, tasks.send_hall_chunk(ids[i:i + size], as_of))
        if total.paused:
            get_run_logger().warning("网上办事大厅 unavailable: the rest waits for the next run")
            break
    return total.as_dict()


def _artifacts(summary: dict[str, Any]) -> None:
    province, problems = summary["province"], summary["problems"]
    create_table_artifact(key="push-province", description="本次推送到省一体化平台的批次", table=[
        {"批次": b["batch_key"], "条数": b["records"], "第几次": b["attempts"], "结果": b["outcome"],
         **{s: b["counts"].get(s, 0) for s in ("created", "updated", "unchanged", "rejected")},
         "错误": b["error"] or ""} for b in province["batches"]] or [{"结果": "没有待推送的记录"}])
    if province["rejected"]:
        create_table_artifact(key="push-rejected", description="省一体化平台拒收的证书记录（请核对后更正）",
                              table=[{"证书编号": r["certificate_no"], "版本": r["version"], "错误": r["error"]}
                                     for r in province["rejected"][:ARTIFACT_ROWS]])
    dead = [i for i in problems["items"] if i["status"] == "dead"]
    if dead:
        lines = [f"# 死信告警：{problems['dead']} 条记录多次发送失败，已停止重试", "",
                 "处理：确认对方系统恢复后运行 `zhicheng push --retry-dead`。", "",
                 "| id | 目标 | 对象 | 尝试 | 最后错误 |", "| --- | --- | --- | --- | --- |"]
        lines += [f"| {i['id']} | {i['target']} | {i['subject']} | {i['attempts']} | {i['error']} |"
                  for i in dead]
        create_markdown_artifact(key="push-dead-letters", markdown="\n".join(lines),
                                 description="推送死信告警")


@flow(name="reconcile", description="核对本地证书库与省一体化平台（先比条数，不一致或要求时逐条比对），缺失和过期的记录重新排队推送")
def reconcile(batch_year: int | None = None, as_of: str | None = None, full: bool = False) -> dict[str, Any]:
    logger = get_run_logger()
    results = [tasks.check_scope(region, year, full, as_of) for region, year in tasks.scopes(batch_year, as_of)]
    summary = tasks.summarize(results, batch_year=batch_year, full=full)
    summary["report"] = tasks.write_report(summary, as_of)
    rows = summary["rows"]
    create_table_artifact(key="reconcile", description=(
        f"本地与省平台核对：{len(summary['scopes'])} 个范围，差异 {len(rows)} 条，重新排队 {summary['requeued']} 条"
        + (f"（仅列前 {ARTIFACT_ROWS} 条，完整清单见 {summary['report']}）" if len(rows) > ARTIFACT_ROWS else "")),
        table=[{"证书编号": r["certificate_no"], "地区": r["issuer_region_code"], "年度": r["year"],
                "问题": tasks.PROBLEM_WORDS[r["problem"]], "说明": r["detail"]} for r in rows[:ARTIFACT_ROWS]]
        or [{"结果": "一致"}])
    summary["rows_total"] = len(rows)
    summary["rows"] = rows[:ARTIFACT_ROWS]
    logger.info("reconciled %d scopes: %s, re-queued %d; report %s", len(summary["scopes"]),
                summary["differences"], summary["requeued"], summary["report"])
    return summary
