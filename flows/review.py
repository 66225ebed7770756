"""Flow `review_overdue`: applications held past their stage's time limit, per office,
as a Prefect table artifact and an XLSX report in ZHICHENG_HOME/reports/review/.
Scheduled daily by `zhicheng serve` (config/deployments.yaml)."""
from __future__ import annotations

from typing import Any

from prefect import flow

from zhicheng.flows.naming import run_name
from zhicheng.flows.progress import Progress
from zhicheng.runtime import run_logger, table_artifact
from zhicheng.tasks import review as tasks
from zhicheng.tasks.review import sort_rows, table


@flow(name="review_overdue", flow_run_name=run_name("overdue-reviews"),
      description="列出各审核单位超期未审的办件")
def review_overdue(as_of: str | None = None) -> dict[str, Any]:
    """List the applications held past their stage's time limit.

    Args:
        as_of: 检查时刻（ISO 8601；空：现在）：此时已超过办理时限的审核环节算超期
    """
    logger = run_logger()
    found = tasks.open_steps(as_of)
    ids, size, now = found["ids"], found["chunk"], found["now"]
    chunks = [ids[i:i + size] for i in range(0, len(ids), size)]
    progress = Progress("review-overdue-progress", len(chunks), f"超期检查（{len(ids)} 个审核环节，{len(chunks)} 批）")
    rows = []
    for chunk in chunks:
        rows += tasks.overdue_chunk(chunk, now)
        progress.step()
    progress.finish()
    path = tasks.write_report(rows, now)
    offices = sorted({r["office"] for r in rows})
    table_artifact(key="review-overdue", table=table(rows) or [{"结果": "无超期办件"}],
                   description=f"{now[:16]}：超期办件 {len(rows)} 件，涉及 {len(offices)} 个单位；报表 {path}")
    logger.info("在办审核环节 %d 个，超期 %d 个，涉及 %d 个单位；报表 %s", len(ids), len(rows), len(offices), path)
    return {"as_of": now, "open_steps": len(ids), "rows": sort_rows(rows), "offices": offices, "xlsx": path}
