"""The history of data-quality runs (table quality_results): every run's outcome check by
check, and each check's change since the run before (issue 24). A staff file's check
is a run too (its suites are the file kind's, `file_ballots`, ...; `file_name` names
the file), so its change is since the last file of that kind."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import QualityResult


def record(sessions, run: dict[str, Any], summaries: list[dict[str, Any]], *, now: dt.datetime) -> None:
    """Keep this run's results (a re-published run replaces its own rows); `run` may
    name the staff file it checked (`file_name`)."""
    with unit_of_work(sessions) as s:
        for old in s.scalars(select(QualityResult).where(QualityResult.run_id == run["run_id"])):
            s.delete(old)
        s.flush()
        s.add_all(QualityResult(
            run_id=run["run_id"], run_at=dt.datetime.fromisoformat(run["as_of"]), recorded_at=now,
            batch_year=run["batch_year"], suite=summary["suite"], check_name=c["check"][:200],
            team=bool(c.get("team")), success=c["success"], unexpected_count=c["unexpected_count"],
            checked=c["checked"], error=c["error"], file_name=run.get("file_name"))
            for summary in summaries for c in summary["checks"])


def with_changes(app, run: dict[str, Any], summaries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The summaries, each check with `previous` (its failing rows in the last earlier
    run of that check, None if it never ran) and `change` (now minus then)."""
    before = _previous_counts(app, run["run_id"])
    out = []
    for summary in summaries:
        checks = []
        for c in summary["checks"]:
            key = (summary["suite"], c["check"][:200])
            ran, previous = key in before, before.get(key)
            change = (c["unexpected_count"] - previous
                      if ran and previous is not None and c["unexpected_count"] is not None else None)
            checks.append({**c, "previous": previous if ran else None, "change": change})
        out.append({**summary, "checks": checks})
    return out


def _previous_counts(app, run_id: str) -> dict[tuple[str, str], int | None]:
    """Per (suite, check): the failing rows of its latest result outside this run."""
    latest = (select(QualityResult.suite, QualityResult.check_name,
                     func.max(QualityResult.id).label("id"))
              .where(QualityResult.run_id != run_id)
              .group_by(QualityResult.suite, QualityResult.check_name).subquery())
    with app.sessions() as s:
        rows = s.execute(select(QualityResult.suite, QualityResult.check_name,
                                QualityResult.unexpected_count)
                         .join(latest, QualityResult.id == latest.c.id)).all()
    return {(suite, check): count for suite, check, count in rows}


def frame(app, *, suite: str | None = None, since: dt.datetime | None = None):
    """The history as a pandas DataFrame, one row per check and run (for charts)."""
    import pandas as pd
    q = select(QualityResult).order_by(QualityResult.run_at, QualityResult.id)
    if suite:
        q = q.where(QualityResult.suite == suite)
    if since:
        q = q.where(QualityResult.run_at >= since)
    with app.sessions() as s:
        rows = [{"run_id": r.run_id, "run_at": r.run_at, "batch_year": r.batch_year,
                 "suite": r.suite, "check": r.check_name, "team": r.team, "success": r.success,
                 "unexpected_count": r.unexpected_count, "checked": r.checked, "error": r.error,
                 "file_name": r.file_name}
                for r in s.scalars(q)]
    columns = ["run_id", "run_at", "batch_year", "suite", "check", "team", "success",
               "unexpected_count", "checked", "error", "file_name"]
    return pd.DataFrame(rows, columns=columns)
