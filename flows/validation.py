"""Flow `validate`: check the materials and fields of every received application and
return failing ones to the hall (through the outbox, once per revision).

Chunks (config/policy.yaml chunks.validation) run in parallel on the task runner
(zhicheng.runners: threads here, Dask for scale-out); the inspection itself runs in
each chunk's worker subprocess, so chunks use every core. Each chunk commits its own
results; a re-run takes up only what is still received.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from zhicheng.runners import chunk_runner
from zhicheng.tasks import validation as tasks
from zhicheng.tasks.context import app_for


@flow(name="validate", task_runner=chunk_runner(),
      description="校验已接收申报的材料和填报信息，有错误的退回网上办事大厅（每个版本只退回一次）")
def validate(as_of: str | None = None, limit: int | None = None) -> dict[str, Any]:
    logger = get_run_logger()
    ids = tasks.plan(as_of, limit)
    size = int(app_for(as_of).config.policy.chunks.get("validation", 200))
    chunks = [ids[i:i + size] for i in range(0, len(ids), size)]
    logger.info("%d applications to validate in %d chunks of up to %d", len(ids), len(chunks), size)
    futures = [tasks.validate_chunk.submit(chunk, as_of) for chunk in chunks]
    results = [f.result() for f in futures]
    findings = Counter()
    for r in results:
        findings.update(r["findings"])
    summary = {"pending": len(ids), "chunks": len(chunks),
               **{k: sum(r[k] for r in results) for k in ("applications", "passed", "returned", "skipped",
                                                          "files", "bytes")},
               "findings": dict(sorted(findings.items()))}
    logger.info("validated %(applications)d: %(passed)d passed, %(returned)d returned", summary)
    _artifact(summary)
    return summary


def _artifact(summary: dict[str, Any]) -> None:
    rows = [{"项目": label, "代码": key, "数量": summary[key]}
            for key, label in (("applications", "已校验申报"), ("passed", "通过"), ("returned", "退回"),
                               ("skipped", "跳过（已由其他运行处理）"), ("files", "检查文件"))]
    rows += [{"项目": "问题", "代码": code, "数量": n} for code, n in summary["findings"].items()]
    create_table_artifact(key="validate", table=rows,
                          description=f"材料校验：{summary['applications']} 件，通过 {summary['passed']}，"
                                      f"退回 {summary['returned']}")
