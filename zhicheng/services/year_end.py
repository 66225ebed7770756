"""The year-end run's bookkeeping: which steps of a batch year are finished.

A finished step is recorded with its summary in the same database as its effects,
so a re-run after a crash skips it and continues with the first unfinished one.
Each step is itself idempotent, so a crash inside a step is covered by re-running it.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhicheng.db.models import YearEndStep

STEPS = ("close_publicity", "issue", "push", "reconcile", "quality")


def finished_steps(session: Session, batch_year: int) -> dict[str, dict[str, Any]]:
    rows = session.scalars(select(YearEndStep).where(YearEndStep.batch_year == batch_year))
    return {r.step: r.summary for r in rows}


def mark_finished(session: Session, *, batch_year: int, step: str, started_at: dt.datetime,
                  finished_at: dt.datetime, summary: dict[str, Any]) -> None:
    if step not in STEPS:
        raise ValueError(f"unknown year-end step {step!r}")
    session.add(YearEndStep(batch_year=batch_year, step=step, started_at=started_at,
                            finished_at=finished_at, summary=_plain(summary)))
    try:
        session.flush()
    except IntegrityError:  # another run finished it first: theirs stands
        session.rollback()


def _plain(value: Any) -> Any:
    """JSON-safe copy of a step's summary (dates as ISO strings)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
