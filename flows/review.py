"""Flow `review_overdue`: applications held past their stage's time limit, per office,
as a Prefect table artifact and an XLSX report in ZHICHENG_HOME/reports/review/.
Scheduled daily by `zhicheng serve` (config/deployments.yaml)."""
from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from zhicheng.services.review_overdue import sort_rows, table
from zhicheng.tasks import review as tasks


@flow(name="review_overdue", description="列出各审核单位超期未审的办件")
def review_overdue(as_of: str | None = None) -> dict[str, Any]:
    logger = get_run_logger()
    found = tasks.open_steps(as_of)
    ids, size, now = found["ids"], found["chunk"], found["now"]
    rows = [r for i in range(0, len(ids), size) for r in tasks.overdue_chunk(ids[i:i + size], now)]
    path = tasks.write_report(rows, now)
    offices = sorted({r["office"] for r in rows})
    create_table_artifact(key="review-overdue", table=table(rows) or [{"结果": "无超期办件"}],
                          description=f"{now[:16]}：超期办件 {len(rows)} 件，涉及 {len(offices)} 个单位；报表 {path}")
    logger.info("%d of %d open steps overdue, %d offices; report %s", len(rows), len(ids), len(offices), path)
    return {"as_of": now, "open_steps": len(ids), "rows": sort_rows(rows), "offices": offices, "xlsx": path}
