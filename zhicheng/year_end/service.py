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

from zhicheng.year_end.models import YearEndStep

STEPS = ("close_publicity", "issue", "push", "reconcile", "quality")


STEP_NAMES = {"close_publicity": "关闭到期公示", "issue": "发证", "push": "推送",
              "reconcile": "核对", "quality": "质量检查"}


def headline(step: str, summary: dict[str, Any]) -> str:
    """One line a title office reads: what the step did, in counts."""
    s = summary
    if step == "close_publicity":
        return (f"关闭公示 {len(s.get('closed_windows', []))} 个，进入下一环节 {s.get('passed', 0)} 件，"
                f"因异议暂缓 {s.get('held', 0)} 件，撤下 {s.get('removed', 0)} 件")
    if step == "issue":
        return (f"发证 {s.get('issued', 0)} 张，登记 {s.get('registered', 0)} 条，作废旧证 {s.get('revoked', 0)} 张，"
                f"未能发证 {len(s.get('problems', []))} 件")
    if step == "push":
        p, h, q = s.get("province", {}), s.get("hall", {}), s.get("problems", {})
        return (f"省平台推送 {p.get('sent', 0)} 条{'（省平台无应答，下次继续）' if p.get('paused') else ''}，"
                f"大厅通知 {h.get('sent', 0)} 条，待人工处理：拒收 {q.get('rejected', 0)}、死信 {q.get('dead', 0)}")
    if step == "reconcile":
        return (f"核对 {len(s.get('scopes', []))} 个范围，差异 {s.get('rows_total', 0)} 条，"
                f"重新排队 {s.get('requeued', 0)} 条")
    if step == "quality":
        failed = s.get("failed", [])
        which = "、".join(f"{f['suite']}.{f['check']}" + (f"（{f['unexpected_count']} 行）"
                                                         if f.get("unexpected_count") is not None else "")
                         for f in failed)
        return (f"{s.get('checks', 0)} 项检查" + (f"，{len(failed)} 项不符合：{which}" if failed else "全部通过")
                + f"；Data Docs：{s.get('data_docs', '-')}")
    raise ValueError(f"unknown year-end step {step!r}")


def finished_steps(*, session: Session, batch_year: int) -> dict[str, dict[str, Any]]:
    rows = session.scalars(select(YearEndStep).where(YearEndStep.batch_year == batch_year))
    return {r.step: r.summary for r in rows}


def mark_finished(*, session: Session, batch_year: int, step: str, started_at: dt.datetime,
                  finished_at: dt.datetime, summary: dict[str, Any]) -> None:
    if step not in STEPS:
        raise ValueError(f"unknown year-end step {step!r}")
    session.add(YearEndStep(batch_year=batch_year, step=step, started_at=started_at,
                            finished_at=finished_at, summary=plain(summary)))
    try:
        session.flush()
    except IntegrityError:  # another run finished it first: theirs stands
        session.rollback()


def plain(value: Any) -> Any:
    """JSON-safe copy of a step's summary (dates as ISO strings)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
