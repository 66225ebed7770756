"""Flow `publicity_close_due`: close every publicity window whose end has passed.

Applications without an open objection move on (through the review service's decide,
actor "system"), those with one are held, an upheld objection removes its application.
Safe to run any number of times a day; scheduled daily by `zhicheng serve`
(config/deployments.yaml) and run as the first step of `year_end`.
"""
from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from zhicheng.tasks import publicity as tasks


@flow(name="publicity_close_due", description="关闭到期的公示，无异议的办件进入下一环节")
def publicity_close_due(as_of: str | None = None, batch_year: int | None = None) -> dict[str, Any]:
    """`batch_year` (from year_end) only labels the run: every due window is closed."""
    logger = get_run_logger()
    ids = tasks.due_windows(as_of)
    size = int(tasks.settings(tasks.make_app(as_of)).get("close_chunk_windows", 20))
    runs = [tasks.close_chunk(ids[i:i + size], as_of) for i in range(0, len(ids), size)]
    held = tasks.settle_held(as_of)
    summary: dict[str, Any] = {"batch_year": batch_year,
                               "closed_windows": [w for r in runs for w in r["closed_windows"]]}
    for key in ("passed", "held", "removed", "problems"):
        summary[key] = sum(r[key] for r in runs) + held[key]
    logger.info("closed %d windows: moved on %d, held %d, removed %d, not moved %d",
                len(summary["closed_windows"]), summary["passed"], summary["held"],
                summary["removed"], summary["problems"])
    create_table_artifact(key="publicity-close-due", description="到期公示关闭结果",
                          table=[{"closed_windows": ",".join(map(str, summary["closed_windows"])) or "-",
                                  "passed": summary["passed"], "held": summary["held"],
                                  "removed": summary["removed"], "problems": summary["problems"]}])
    return summary
