"""Overdue stages: applications an office has held past the stage's time limit
(config/policy.yaml stage_time_limits_days, in working days), listed per office.

A step whose deadline could not be computed when it was entered (the calendar lacked
the year) gets it here once the calendar has it.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhicheng.clock import local
from zhicheng.config import Config
from zhicheng.db.models import Applicant, Application
from zhicheng.domain import overdue as rules
from zhicheng.domain.calendar import CalendarYearNotCovered
from zhicheng.domain.review import LIVE
from zhicheng.domain.review import due_at as deadline
from zhicheng.files.cjk_documents import write_xlsx
from zhicheng.review import service as review
from zhicheng.review.models import ReviewStep

COLUMNS = ("单位", "环节", "申报编号", "姓名", "申报类型", "进入环节时间", "办理期限", "超期工作日")
REPORT_FOLDER = ("reports", "review")


def chunk_size(config: Config) -> int:
    return config.policy.chunks.review


def open_step_ids(*, session: Session) -> list[int]:
    """The steps applications stand on now (entered, not left, still in review)."""
    return list(session.scalars(
        select(ReviewStep.id).join(Application, Application.id == ReviewStep.application_id)
        .where(ReviewStep.left_at.is_(None), Application.status.in_(LIVE),
               ReviewStep.stage_index == Application.stage_index).order_by(ReviewStep.id)))


def overdue_rows(*, session: Session, step_ids: list[int], config: Config, now: dt.datetime,
                 calendar) -> list[dict[str, Any]]:
    """One row per overdue step among `step_ids`, with the office that must act."""
    now = local(now)
    steps = list(session.scalars(select(ReviewStep).where(ReviewStep.id.in_(step_ids))))
    apps = {a.id: a for a in session.scalars(select(Application).where(
        Application.id.in_({s.application_id for s in steps})))}
    people = _by_id(session=session, model=Applicant, ids={a.applicant_id for a in apps.values()})
    rows = []
    for step in steps:
        due = _deadline(step, config, calendar)
        if due is None or due > now:
            continue
        app = apps[step.application_id]
        person = people.get(app.applicant_id)
        rows.append({
            "office": _office(step.stage, app, config), "stage": step.stage,
            "submission_id": app.submission_id, "name": person.name if person else "",
            "track": app.track or "", "entered_at": local(step.entered_at).isoformat(),
            "due_at": due.isoformat(), "days_overdue": _late(due, now, calendar)})
    return rows


def _late(due: dt.datetime, now: dt.datetime, calendar) -> int | None:
    try:
        return rules.working_days_late(due, now, calendar)
    except CalendarYearNotCovered:
        return None


def _by_id(*, session: Session, model, ids: set) -> dict:
    ids = {i for i in ids if i is not None}
    return {r.id: r for r in session.scalars(select(model).where(model.id.in_(ids)))} if ids else {}


def _deadline(step: ReviewStep, config: Config, calendar) -> dt.datetime | None:
    if step.due_at is not None:
        return local(step.due_at)
    days = review.stage_limit_days(config, step.stage)
    if not days:
        return None
    try:
        step.due_at = deadline(local(step.entered_at), days, calendar)
    except CalendarYearNotCovered:
        return None  # still no data for that year: counted as without deadline
    return step.due_at


def _office(stage: str, app: Application, config: Config) -> str:
    """Who must act, from the employer as this application submitted it."""
    committee = config.committees.get(app.committee_id) if app.committee_id else None
    parties = rules.Parties(region_code=app.region_code or "000000", employer=app.employer_name,
                            supervising_dept=app.employer_supervising_dept,
                            committee=committee.name if committee else None)
    offices = {code: o.name for code, o in config.title_offices.items()}
    return rules.responsible_office(stage, parties, title_offices=offices,
                                    region_name=lambda code: _region_name(config, code))


def _region_name(config: Config, code: str) -> str:
    region = config.regions.get(code)
    return region.name if region else code


def sort_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (r["office"], r["due_at"], r["submission_id"]))


def table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with the report's Chinese column names (artifact, XLSX)."""
    return [dict(zip(COLUMNS, (r["office"], r["stage"], r["submission_id"], r["name"], r["track"],
                               r["entered_at"][:16].replace("T", " "), r["due_at"][:16].replace("T", " "),
                               r["days_overdue"]), strict=True)) for r in sort_rows(rows)]


def write_report(rows: list[dict[str, Any]], *, home: Path, now: dt.datetime) -> Path:
    """ZHICHENG_HOME/reports/review/overdue-YYYYMMDD-HHMM.xlsx: every overdue application,
    and a second sheet counting them per office."""
    now = local(now)
    body = [list(r.values()) for r in table(rows)]
    per_office: dict[str, int] = {}
    for r in rows:
        per_office[r["office"]] = per_office.get(r["office"], 0) + 1
    path = Path(home).joinpath(*REPORT_FOLDER) / f"overdue-{now:%Y%m%d-%H%M}.xlsx"
    return write_xlsx(path, title="审核超期办件清单", sheet="超期办件",
                      header_lines=[f"统计时间：{now:%Y-%m-%d %H:%M}", f"超期办件：{len(rows)} 件"],
                      columns=COLUMNS, rows=body,
                      extra={"按单位汇总": (["单位", "超期办件数"], sorted(per_office.items()))})


def overdue_report(app) -> dict[str, Any]:
    """The whole report in this process (the CLI); the flow runs the same steps in tasks."""
    from zhicheng.db.engine import unit_of_work
    from zhicheng.workspace import working_calendar
    now = app.clock.now()
    calendar = working_calendar(app.config.directory)
    with app.sessions() as session:
        ids = open_step_ids(session=session)
    size = chunk_size(app.config)
    rows = []
    for i in range(0, len(ids), size):
        with unit_of_work(app.sessions) as session:  # commits deadlines filled in
            rows += overdue_rows(session=session, step_ids=ids[i:i + size], config=app.config,
                                 now=now, calendar=calendar)
    path = write_report(rows, home=app.settings.home, now=now)
    return {"as_of": local(now).isoformat(), "rows": sort_rows(rows), "xlsx": str(path)}
