"""Publicity windows (公示): open one over the applications at a publicity stage,
publish its list, take objections (异议), and close due windows.

The published list shows name, employer, declared title and specialty only: never ID
numbers, phone numbers or votes (rules.md). Closing moves an application on through
the review service's `decide` (actor "system"), holds it while an objection is open,
and removes it when an objection is upheld. An application withdrawn by its applicant
(取消申请) leaves its window at once (`withdraw`, called by the cancellation) and is
settled as withdrawn at closing in any case: no decision, no problem.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zhicheng import outbox
from zhicheng.clock import TypedTimeError, local, local_date, typed_time
from zhicheng.config import Config, require_committee
from zhicheng.db.batches import in_pages, insert_rows
from zhicheng.db.models import Applicant, Application
from zhicheng.domain import notices
from zhicheng.domain import publicity as rules
from zhicheng.domain.application_status import ApplicationStatus
from zhicheng.domain.calendar import WorkingCalendar
from zhicheng.errors import BadValue
from zhicheng.files.cjk_documents import write_pdf, write_xlsx
from zhicheng.files.tables import FileRefused, Row, read_table
from zhicheng.publicity.models import Objection, PublicityEntry, PublicityWindow
from zhicheng.review.machine_stages import PUBLICITY_STAGE_KIND, MachineDecision, decide_machine_stages

LIST_COLUMNS = ("序号", "姓名", "工作单位", "申报资格", "级别", "专业")
OBJECTION_COLUMNS = ("公示编号", "申报编号", "异议时间", "异议内容")
OBJECTION_OPTIONAL = ("异议编号", "处理结果", "处理时间", "处理理由")
ACTIVE_ENTRY = rules.ACTIVE


def _office(config: Config, committee_id: str | None) -> str:
    c = config.committees.get(committee_id or "")
    return c.name if c else "职称管理部门"


# ---------------------------------------------------------------- open

# Applications a page of opening a window writes entries and notices for.
PAGE = 1_000


def open_window(*, session: Session, kind: str, committee_id: str | None, config: Config,
                calendar: WorkingCalendar, now: dt.datetime, out_dir: Path) -> dict[str, Any]:
    """Open a window over the applications that reached the `kind` stage and are on no
    other running window; publish its list. None opened when nobody is waiting."""
    if kind not in rules.KIND_STAGES:
        raise BadValue(f"kind {kind!r} is not one of {', '.join(rules.KIND_STAGES)}")
    require_committee(config, committee_id)
    stage = rules.KIND_STAGES[kind]
    waiting = _waiting(session=session, stage=stage, committee_id=committee_id)
    if not waiting:
        return {"window": None, "kind": kind, "committee": committee_id, "applications": 0}
    now = local(now)
    dates = rules.window_dates(calendar, local_date(now), config.policy.publicity.min_working_days)
    window = PublicityWindow(kind=kind, committee_id=committee_id, published_on=dates.published_on,
                             opens_on=dates.opens_on, closes_on=dates.closes_on,
                             ends_at=dates.ends_at, status="open")
    session.add(window)
    session.flush()
    # a page of the list at a time: a province's list is tens of thousands long, and
    # its notices need not all be in memory at once (one transaction all the same)
    for page in in_pages(waiting, PAGE):
        insert_rows(session=session, model=PublicityEntry,   # in the list's order
                    rows=[{"window_id": window.id, "application_id": a.id, "outcome": rules.PENDING} for a in page])
        outbox.enqueue_many(session=session, now=now,
                            items=publicity_notices(session=session, window=window, apps=page, config=config))
    pdf, xlsx = publish_list(session=session, window=window, config=config, out_dir=out_dir)
    window.list_pdf_path, window.list_xlsx_path = str(pdf), str(xlsx)
    session.flush()
    return {**describe(window), "applications": len(waiting)}


def publicity_notices(*, session: Session, window: PublicityWindow, apps: Sequence[Any],
                      config: Config) -> list[dict[str, Any]]:
    """The `publicity` notice (seed 004:41) to each applicant on the window's list, written
    with the window: a crash before its commit leaves neither, a re-run finds the
    applications on the window and opens none again."""
    people = outbox.addressees(session=session, applicant_ids={a.applicant_id for a in apps if a.applicant_id})
    out = []
    for app in apps:
        person = people.get(app.applicant_id or 0)
        if person is None:
            continue
        key = notices.publicity_key(window.id, app.submission_id)
        params = notices.publicity_params(
            name=person.name, submission_id=app.submission_id, track=app.track, kind=window.kind,
            stage=rules.KIND_STAGES[window.kind], window_id=window.id, office=_office(config, window.committee_id),
            published_on=window.published_on, opens_on=window.opens_on, closes_on=window.closes_on)
        out.append(notices.outbox_item(template=notices.PUBLICITY, key=key, id_number=person.id_number,
                                       params=params))
    return out


def _waiting(*, session: Session, stage: str, committee_id: str | None) -> list[Any]:
    """The applications a window would list: rows of what its entries and notices need,
    not the applications' objects (a province's list holds tens of thousands)."""
    busy = select(PublicityEntry.application_id).where(PublicityEntry.outcome.in_(ACTIVE_ENTRY))
    q = select(Application.id, Application.applicant_id, Application.submission_id, Application.track).where(
        Application.status == ApplicationStatus.IN_REVIEW, Application.stage == stage, Application.id.not_in(busy))
    if committee_id is not None:
        q = q.where(Application.committee_id == committee_id)
    return list(session.execute(q.order_by(Application.id)))


def describe(window: PublicityWindow) -> dict[str, Any]:
    return {"window": window.id, "kind": window.kind, "committee": window.committee_id,
            "published_on": window.published_on.isoformat(), "opens_on": window.opens_on.isoformat(),
            "closes_on": window.closes_on.isoformat(),
            "ends_at": local(window.ends_at).isoformat(), "status": window.status,
            "list_pdf": window.list_pdf_path, "list_xlsx": window.list_xlsx_path}


def entry_counts(*, session: Session) -> dict[int, dict[str, int]]:
    """Per window, how many of its entries stand at each outcome (pending, passed, held,
    removed, withdrawn): what `zhicheng publicity list` shows of each list."""
    out: dict[int, dict[str, int]] = {}
    for window_id, outcome, n in session.execute(select(
            PublicityEntry.window_id, PublicityEntry.outcome, func.count(PublicityEntry.id))
            .group_by(PublicityEntry.window_id, PublicityEntry.outcome)):
        out.setdefault(window_id, {})[outcome] = n
    return out


def list_rows(*, session: Session, window: PublicityWindow) -> Iterator[list[Any]]:
    """The public list: name, employer, declared title and specialty, nothing else; a
    page at a time (a province's list is tens of thousands long)."""
    q = (select(Applicant.name, Application.employer_name, Application.qualification_name,
                Application.level, Application.specialty)
         .select_from(PublicityEntry)
         .join(Application, Application.id == PublicityEntry.application_id)
         .outerjoin(Applicant, Applicant.id == Application.applicant_id)
         .where(PublicityEntry.window_id == window.id).order_by(PublicityEntry.id))
    for i, row in enumerate(session.execute(q.execution_options(yield_per=PAGE)), start=1):
        yield [i, *row]


def publish_list(*, session: Session, window: PublicityWindow, config: Config,
                 out_dir: Path) -> tuple[Path, Path]:
    title = f"{_office(config, window.committee_id)}{window.kind}公示名单"
    lines = [f"公示编号：{window.id}",
             f"公示期：{window.opens_on.isoformat()} 至 {window.closes_on.isoformat()}（共 "
             f"{config.policy.publicity.min_working_days} 个工作日，截至 {window.closes_on.isoformat()} 24:00）",
             "公示期间如有异议，请向评委会办事机构书面反映。"]
    stem = f"publicity-{window.id}-{window.kind}"
    # the list read twice, as each file is written, rather than kept
    pdf = write_pdf(out_dir / f"{stem}.pdf", title=title, header_lines=lines, columns=LIST_COLUMNS,
                    rows=list_rows(session=session, window=window), widths=[0.5, 1.2, 3, 1.6, 0.9, 1.6])
    xlsx = write_xlsx(out_dir / f"{stem}.xlsx", title=title, header_lines=lines,
                      columns=LIST_COLUMNS, rows=list_rows(session=session, window=window))
    return pdf, xlsx


# ---------------------------------------------------------------- objections

def import_objections(*, session: Session, path: Path | str, config: Config,
                      now: dt.datetime) -> dict[str, Any]:
    """Lodge objections and record decisions on them; refused whole if any row is bad.

    A row without 异议编号 lodges an objection (refused once its window has ended); a
    row with 处理结果 decides it (成立 upheld / 不成立 dismissed). Held applications whose
    objections are all decided are settled at once.
    """
    rows = read_table(path, required=OBJECTION_COLUMNS, optional=OBJECTION_OPTIONAL, limits=config.policy.imports)
    source = Path(path).name
    windows = {str(w.id): w for w in session.scalars(select(PublicityWindow))} if rows else {}
    apps = {a.submission_id: a for a in session.scalars(select(Application).where(
        Application.submission_id.in_({r.get("申报编号") for r in rows})))} if rows else {}
    problems: list[tuple[int, str]] = []
    planned = []
    for r in rows:
        found, plan = _objection_row(session=session, r=r, windows=windows, apps=apps)
        problems += [(r.number, m) for m in found]
        planned.append(plan)
    if problems:
        raise FileRefused(path, problems)
    lodged = decided = skipped = 0
    for r, plan in zip(rows, planned, strict=True):
        obj = plan["objection"]
        if obj is None:
            obj = _existing(session=session, plan=plan)
        if obj is None:
            obj = Objection(window_id=plan["window"].id, application_id=plan["application"].id,
                            lodged_at=plan["lodged_at"], content=r.get("异议内容"), status=rules.OPEN,
                            source_file=source, source_row=r.number)
            session.add(obj)
            lodged += 1
        elif not plan["decision"]:
            skipped += 1
        if plan["decision"] and obj.status == rules.OPEN:
            obj.status, obj.decision_reason = plan["decision"], r.get("处理理由") or None
            obj.decided_at = plan["decided_at"] or local(now)
            decided += 1
    session.flush()
    settled = settle_held(session=session, config=config, now=now)
    return {"rows": len(rows), "lodged": lodged, "decided": decided, "already_stored": skipped,
            "settled": settled}


def _objection_row(*, session: Session, r: Row, windows, apps) -> tuple[list[str], dict]:
    out = [f"{h} 为空" for h in ("公示编号", "申报编号") if not r.get(h)]
    window, app = windows.get(r.get("公示编号")), apps.get(r.get("申报编号"))
    plan: dict[str, Any] = {"window": window, "application": app, "objection": None,
                            "decision": None, "decided_at": None, "lodged_at": None}
    if r.get("公示编号") and window is None:
        out.append(f"公示编号 {r.get('公示编号')} 不存在")
    if r.get("申报编号") and app is None:
        out.append(f"申报编号 {r.get('申报编号')} 不存在")
    if window is not None and app is not None and session.scalars(select(PublicityEntry.id).where(
            PublicityEntry.window_id == window.id, PublicityEntry.application_id == app.id)).first() is None:
        out.append(f"申报 {app.submission_id} 不在公示 {window.id} 的名单上")
    word = r.get("处理结果")
    if word:
        plan["decision"] = rules.DECISION_WORDS.get(word)
        if plan["decision"] is None:
            out.append(f"处理结果 {word!r} 应为 成立 或 不成立")
        elif plan["decision"] == rules.UPHELD and not r.get("处理理由"):
            out.append("异议成立时须填写处理理由（记入审核记录）")
    if r.get("处理时间"):
        try:
            plan["decided_at"] = typed_time(r.get("处理时间"), what="处理时间")
        except TypedTimeError as exc:
            plan["decided_at"] = None
            out.append(str(exc))
    if r.get("异议编号"):
        out += _decision_row(session=session, r=r, plan=plan)
    else:
        out += _lodging_row(r, plan)
    return out, plan


def _lodging_row(r: Row, plan: dict) -> list[str]:
    out = []
    if not r.get("异议内容"):
        out.append("异议内容 为空")
    try:
        lodged = typed_time(r.get("异议时间"), what="异议时间")
    except TypedTimeError as exc:
        out.append(str(exc))
        return out
    if plan["window"] is not None:
        plan["lodged_at"] = lodged
        why = rules.may_lodge(plan["window"].ends_at, plan["window"].published_on, plan["lodged_at"])
        if why:
            out.append(f"{why}（公示截至 {plan['window'].closes_on.isoformat()} 24:00，异议时间 {r.get('异议时间')}）")
    return out


def _decision_row(*, session: Session, r: Row, plan: dict) -> list[str]:
    obj = session.get(Objection, int(r.get("异议编号"))) if r.get("异议编号").isdigit() else None
    if obj is None:
        return [f"异议编号 {r.get('异议编号')} 不存在"]
    plan["objection"] = obj
    if plan["window"] is not None and obj.window_id != plan["window"].id or \
            plan["application"] is not None and obj.application_id != plan["application"].id:
        return [f"异议 {obj.id} 不属于该公示和申报"]
    if not plan["decision"]:
        return ["有异议编号的行须填写处理结果"]
    if obj.status != rules.OPEN and obj.status != plan["decision"]:
        return [f"异议 {obj.id} 已处理为 {obj.status}，不能改为 {plan['decision']}"]
    return []


def _existing(*, session: Session, plan: dict) -> Objection | None:
    """The same objection imported before (same window, application and time)."""
    return session.scalars(select(Objection).where(
        Objection.window_id == plan["window"].id, Objection.application_id == plan["application"].id,
        Objection.lodged_at == plan["lodged_at"])).first()


# ---------------------------------------------------------------- withdrawal

def withdraw(*, session: Session, application_id: int) -> int:
    """An application withdrawn by its applicant leaves every window it is still active
    on: its entries are marked withdrawn, never deleted (the list as published stays on
    the record). Returns how many entries it left."""
    left = 0
    for entry in session.scalars(select(PublicityEntry).where(
            PublicityEntry.application_id == application_id, PublicityEntry.outcome.in_(ACTIVE_ENTRY))):
        entry.outcome = rules.on_withdrawal(entry.outcome)
        left += 1
    session.flush()
    return left


# ---------------------------------------------------------------- closing

def due_window_ids(*, session: Session, now: dt.datetime) -> list[int]:
    return [w.id for w in session.scalars(select(PublicityWindow).where(PublicityWindow.status == "open")
                                          .order_by(PublicityWindow.id)) if rules.is_due(w.ends_at, now)]


def close_windows(*, session: Session, window_ids: list[int], now: dt.datetime) -> list[int]:
    """Mark due windows closed (their entries are settled by `settle`); returns those closed."""
    closed = []
    for window_id in window_ids:
        window = session.get(PublicityWindow, window_id)
        if window is None or window.status != "open" or not rules.is_due(window.ends_at, now):
            continue
        window.status, window.closed_at = "closed", local(now)
        closed.append(window.id)
    session.flush()
    return closed


def settle_held(*, session: Session, config: Config, now: dt.datetime) -> dict[str, int]:
    """Settle every entry of a closed window not yet settled, in this one transaction."""
    return settle(session=session, config=config, now=now, entry_ids=unsettled_entry_ids(session=session))


def unsettled_entry_ids(*, session: Session) -> list[int]:
    """The entries of closed windows not yet settled, in list order: just closed, held by
    an objection, or left by a decide() that failed (or a run that stopped) last time."""
    return list(session.scalars(select(PublicityEntry.id).join(
        PublicityWindow, PublicityWindow.id == PublicityEntry.window_id).where(
        PublicityWindow.status == "closed", PublicityEntry.outcome.in_(ACTIVE_ENTRY)).order_by(PublicityEntry.id)))


def settle(*, session: Session, config: Config, now: dt.datetime,
           entry_ids: Sequence[int]) -> dict[str, int]:
    """Decide these entries of closed windows (those still pending or held) by their
    objections. Settled by entries, not by windows: a province's 初定 list holds tens of
    thousands of applications, and one transaction's decisions are held in memory."""
    counts = {rules.PASSED: 0, rules.HELD: 0, rules.REMOVED: 0, rules.WITHDRAWN: 0, "problems": 0}
    entries = [e for page in in_pages(entry_ids) for e in session.scalars(select(PublicityEntry).where(
        PublicityEntry.id.in_(page), PublicityEntry.outcome.in_(ACTIVE_ENTRY))
        .order_by(PublicityEntry.id).with_for_update(skip_locked=True)  # two runs never settle one entry
        .execution_options(populate_existing=True))]
    if not entries:
        return counts
    window_ids = sorted({e.window_id for e in entries})
    objections: dict[tuple[int, int], list[Objection]] = {}
    for o in session.scalars(select(Objection).where(Objection.window_id.in_(window_ids))):
        objections.setdefault((o.window_id, o.application_id), []).append(o)
    windows = {w.id: w for w in session.scalars(select(PublicityWindow).where(PublicityWindow.id.in_(window_ids)))}
    statuses = _statuses(session=session, application_ids={e.application_id for e in entries})
    deciding: list[tuple[PublicityEntry, str, MachineDecision]] = []
    for entry in entries:
        objs = objections.get((entry.window_id, entry.application_id), [])
        outcome = rules.entry_outcome(statuses[entry.application_id], (o.status for o in objs))
        if outcome in (rules.HELD, rules.WITHDRAWN):  # nothing to decide (yet)
            entry.outcome = outcome
            counts[outcome] += 1
            continue
        window = windows[entry.window_id]
        if outcome == rules.PASSED:
            action, reason = "approve", f"{window.kind}公示期满（至{window.closes_on.isoformat()}），无异议或异议不成立"
        else:
            upheld = [o for o in objs if o.status == rules.UPHELD]
            action, reason = "remove", f"{window.kind}公示异议成立：{upheld[0].decision_reason or upheld[0].content}"
        deciding.append((entry, outcome, MachineDecision(entry.application_id, action, reason,
                                                         _office(config, window.committee_id),
                                                         rules.KIND_STAGES[window.kind])))
    problems = decide_machine_stages(session=session, wanted=[d for _, _, d in deciding], now=local(now), config=config,
                                     expected_kind=PUBLICITY_STAGE_KIND)
    for (entry, outcome, _), problem in zip(deciding, problems, strict=True):
        if problem:
            counts["problems"] += 1
            continue
        entry.outcome = outcome
        counts[outcome] += 1
    session.flush()
    return counts


def _statuses(*, session: Session, application_ids: set[int]) -> dict[int, str]:
    ids = sorted(application_ids)
    return {row.id: row.status for page in in_pages(ids) for row in session.execute(
        select(Application.id, Application.status).where(Application.id.in_(page)))}
