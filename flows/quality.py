"""Flow `quality`: the data-quality suites over the registry, with great-expectations.

The last step of every year-end run, and runnable on its own. Failing expectations do
not fail the flow: they are the result, for a human (summary, Data Docs, artifact).
"""
from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from zhicheng.services.quality import brief, failures
from zhicheng.tasks import quality as tasks


@flow(name="quality", description="数据质量检查：用 great-expectations 检查办件、材料、决定、选票、证书和待发送记录，生成 Data Docs")
def quality(batch_year: int | None = None, as_of: str | None = None,
            suite: str | None = None) -> dict[str, Any]:
    logger = get_run_logger()
    run = tasks.plan(suite, batch_year, as_of)
    summaries = [tasks.validate_suite(run, name) for name in run["suites"]]
    report = tasks.publish(run, summaries)
    create_markdown_artifact(key=_key(batch_year), markdown=markdown(report),
                             description=f"数据质量检查 {report['run_id']}")
    for f in failures(report):
        logger.warning("%s.%s: %s rows fail (%s)", f["suite"], f["check"],
                       f["unexpected_count"], f["description"])
    logger.info("quality run %s: %s; Data Docs %s", report["run_id"],
                "all expectations met" if report["success"] else "expectations failed",
                report["data_docs"])
    return brief(report)


def _key(batch_year: int | None) -> str:
    return f"quality-{batch_year}" if batch_year is not None else "quality"


def markdown(report: dict[str, Any]) -> str:
    lines = [f"# 数据质量检查 {report['run_id']}", "",
             f"结果：{'全部通过' if report['success'] else '有不符合的期望'}"
             f"（检查时刻 {report['as_of']}，年度 {report['batch_year'] or '全部'}）", "",
             f"[Data Docs]({report['data_docs']})　结果文件：`{report['results']}`", "",
             "| 套件 | 期望 | 结果 | 不符合行数 |", "| --- | --- | --- | --- |"]
    for s in report["suites"]:
        for c in s["checks"]:
            outcome = "通过" if c["success"] else ("出错" if c["error"] else "不符合")
            lines.append(f"| {s['suite']} | {c['check']}：{c['description']} | {outcome} "
                         f"| {c['unexpected_count'] if c['unexpected_count'] is not None else '-'} |")
    return "\n".join(lines) + "\n"
