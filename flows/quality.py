"""Flow `quality`: the data-quality suites over the registry, with great-expectations.

The last step of every year-end run, and runnable on its own. Failing expectations are
the result, for a human: the run ends Failed with them as its message (flows.attention),
its summary, Data Docs and artifact say which rows.

One run at a time (zhicheng.tasks.quality.one_run): a run that finds another going
(a scheduled run and one from the command line, or a staff file being checked) waits
for it, up to `wait_seconds`, saying so in its log. Waiting, not refusing, because a
scheduled run (and year-end's last step) must not fail for another's being there.
"""
from __future__ import annotations

from typing import Any

from prefect import flow

from zhicheng.flows import attention
from zhicheng.flows.naming import run_name
from zhicheng.flows.progress import Progress
from zhicheng.runtime import markdown_artifact, run_logger
from zhicheng.tasks import quality as tasks
from zhicheng.tasks.context import require_batch_year
from zhicheng.tasks.quality import SuiteName


@flow(name="quality", flow_run_name=run_name("quality", "batch_year", "suite"),
      description="数据质量检查：用 great-expectations 检查办件、材料、决定、选票、证书和待发送记录，生成 Data Docs")
def quality(batch_year: int | None = None, as_of: str | None = None,
            suite: SuiteName | None = None, wait_seconds: float | None = None) -> Any:
    """Run the data-quality suites over the registry.

    Args:
        batch_year: 只检查这一申报年度的办件（空：全部年度）
        as_of: 检查时刻（ISO 8601，如 2026-12-28T20:00:00+08:00；空：现在），用于补跑或演示
        suite: 只运行这一个套件（空：全部套件）
        wait_seconds: 另有数据质量检查（或文件检查）在运行时最多等待的秒数（空：一直等到它结束；0：不等）
    """
    logger = run_logger()
    require_batch_year(batch_year)

    def told(held: Exception) -> None:
        logger.warning("另一个数据质量检查（或文件检查）正在使用 GX 项目，等待它结束（%s）", held)
    with tasks.one_run(as_of, wait_seconds, on_wait=told):
        report = _run(suite, batch_year, as_of)
    markdown_artifact(key=_key(batch_year), markdown=markdown(report),
                      description=f"数据质量检查 {report['run_id']}")
    for f in tasks.failures(report):
        logger.warning("%s.%s：%s 行不符合（%s）", f["suite"], f["check"],
                       f["unexpected_count"], f["description"])
    logger.info("数据质量检查 %s：%s；Data Docs %s", report["run_id"],
                "全部通过" if report["success"] else "有不符合的期望", report["data_docs"])
    return attention.conclude("quality", report["run_id"], tasks.brief(report))


def _run(suite: str | None, batch_year: int | None, as_of: str | None) -> dict[str, Any]:
    run = tasks.plan(suite, batch_year, as_of)
    progress = Progress("quality-progress", len(run["suites"]), f"数据质量检查（{len(run['suites'])} 个套件）",
                        unit="个")
    summaries = []
    for name in run["suites"]:
        summaries.append(tasks.validate_suite(run, name))
        progress.step()
    report = tasks.publish(run, summaries)
    progress.finish()
    return report


def _key(batch_year: int | None) -> str:
    return f"quality-{batch_year}" if batch_year is not None else "quality"


def _n(value) -> str:
    return "-" if value is None else str(value)


def _change(check: dict[str, Any]) -> str:
    """The change of failing rows since the last run of this check: +3, -2, 0, 新 (first run)."""
    if check.get("change") is not None:
        return f"{check['change']:+d}" if check["change"] else "0"
    return "新" if check.get("previous") is None else "-"


def markdown(report: dict[str, Any]) -> str:
    lines = [f"# 数据质量检查 {report['run_id']}", "",
             f"结果：{'全部通过' if report['success'] else '有不符合的期望'}"
             f"（检查时刻 {report['as_of']}，年度 {report['batch_year'] or '全部'}）", "",
             f"[Data Docs]({report['data_docs']})　结果文件：`{report['results']}`", "",
             "| 套件 | 期望 | 结果 | 不符合行数 | 检查行数 | 较上次 |", "| --- | --- | --- | --- | --- | --- |"]
    for s in report["suites"]:
        for c in s["checks"]:
            outcome = "通过" if c["success"] else ("出错" if c["error"] else "不符合")
            lines.append(f"| {s['suite']} | {c['check']}：{c['description'] or '数据团队的期望'} | {outcome} "
                         f"| {_n(c['unexpected_count'])} | {_n(c['checked'])} | {_change(c)} |")
    return "\n".join(lines) + "\n"
