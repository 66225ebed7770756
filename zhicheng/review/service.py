"""The review service: the one way an application enters and moves along its chain.

`enter_chain` (`enter_many` for a validation chunk) puts a validated application, or a
resubmission, on its chain; `decide` records one decision (staff imports, and the machine stages:
publicity, votes, issuance with actor "system"). Both load where the application
stands, ask domain/review.py whether the move is legal (IllegalMove before anything
is written), then write: the append-only Decision, the ReviewStep rows, the
application's stage and status, and the outbox item a return sends to the hall.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhicheng import outbox
from zhicheng.clock import local
from zhicheng.config import Config
from zhicheng.db.batches import in_pages, insert_rows
from zhicheng.db.models import Applicant, Application
from zhicheng.domain import notices
from zhicheng.domain import review as rules
from zhicheng.domain.calendar import CalendarYearNotCovered
from zhicheng.domain.privacy import redact
from zhicheng.domain.review import IllegalMove
from zhicheng.domain.routes import UnknownRoute
from zhicheng.review.models import Decision, ReviewStep
from zhicheng.review.models import DECISION_KEY

log = logging.getLogger(__name__)
RETURN_CODE = "review.returned"


# -- where an application stands -----------------------------------------------------

def lock_application(*, session: Session, application_id: int) -> Application:
    """The application, locked until the transaction ends: two decisions never race."""
    app = lock_applications(session=session, ids=[application_id]).get(application_id)
    if app is None:
        raise IllegalMove(f"申报（内部编号 {application_id}）不存在", f"no application {application_id}")
    return app


def position(*, session: Session, app: Application) -> rules.Position:
    return positions_of(session=session, apps=[app])[app.id]


def chain_for(app: Application, config: Config) -> tuple[str, ...]:
    """The chain of a fresh application: its committee's tier and delegation and its
    reporting level (评审), or its track's own chain."""
    committee = config.committees.get(app.committee_id) if app.committee_id else None
    try:
        return config.chains.for_application(
            track=app.track or "", tier=committee.tier if committee else None,
            reporting=app.reporting_level, delegated=committee.delegated if committee else False)
    except (UnknownRoute, LookupError) as exc:
        raise IllegalMove(f"找不到该申报适用的审核流程（{app.track}，评委会 {app.committee_id or '-'}，"
                          f"上报层级 {app.reporting_level or '-'}）", str(exc)) from None


# -- entering the chain ---------------------------------------------------------------

def enter_chain(*, session: Session, application_id: int, now: dt.datetime,
                config: Config) -> rules.Entry:
    """Put a validated application on its chain: a fresh one at the stage after its
    submission stage, a resubmission at the stage that returned it. Status in_review.
    Calling it again for the same revision changes nothing."""
    app = lock_application(session=session, application_id=application_id)
    last_return = _last_returns(session=session, ids=[app.id]).get(app.id)
    entry = _enter(session=session, app=app, last_return=last_return, now=now, config=config)
    session.flush()
    return entry


def enter_many(*, session: Session, apps: Sequence[Application], now: dt.datetime,
               config: Config) -> dict[int, rules.Entry | IllegalMove]:
    """`enter_chain` for applications the caller has locked in this transaction (a
    validation chunk): one query for their last returns and one flush, instead of three
    statements each. An application no chain fits gets its IllegalMove, not an exception."""
    last = _last_returns(session=session, ids=[a.id for a in apps])
    out: dict[int, rules.Entry | IllegalMove] = {}
    for app in apps:
        try:
            out[app.id] = _enter(session=session, app=app, last_return=last.get(app.id), now=now, config=config)
        except IllegalMove as exc:
            out[app.id] = exc
    session.flush()
    return out


def _last_returns(*, session: Session, ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """(revision, stage index) of each application's latest return decision."""
    out: dict[int, tuple[int, int]] = {}
    for page in in_pages(ids):
        for app_id, revision, index in session.execute(
                select(Decision.application_id, Decision.revision, Decision.stage_index)
                .where(Decision.application_id.in_(page), Decision.action == "return")
                .order_by(Decision.id)):
            out[app_id] = (revision, index)
    return out


def _enter(*, session: Session, app: Application, last_return: tuple[int, int] | None,
           now: dt.datetime, config: Config) -> rules.Entry:
    chain = tuple(app.chain) if last_return and app.chain else chain_for(app, config)
    entry = rules.enter(status=app.status, chain=chain, current_index=app.stage_index,
                        revision=app.current_revision, last_return=last_return,
                        kinds=config.chains.kinds)
    if entry.already_in:
        return entry
    now = local(now)
    app.chain, app.stage_index, app.stage = list(entry.chain), entry.stage_index, entry.stage
    app.status = rules.status_at(entry.chain, entry.stage_index, config.chains.kinds)
    session.add(ReviewStep(application_id=app.id, stage_index=entry.stage_index, stage=entry.stage,
                           entered_at=now, due_at=_due(config, entry.stage, now)))
    return entry


# -- deciding -------------------------------------------------------------------------

def decide(*, session: Session, application_id: int, stage: str, action: str, actor: str,
           office: str, reason: str | None, decided_at: dt.datetime, now: dt.datetime,
           config: Config, source_file: str | None = None, source_row: int | None = None) -> Decision:
    """Record one decision at the application's current stage and move it on.

    Raises IllegalMove, having written nothing, for a stage it is not at, a stage
    already decided, an ended, returned or withdrawn application, an action the
    stage does not allow, or a return/rejection without a reason."""
    app = lock_application(session=session, application_id=application_id)
    move = rules.decide(position(session=session, app=app), stage=stage, action=action,
                        kinds=config.chains.kinds, reason=reason)
    step = _open_step(session=session, app=app, stage_index=move.stage_index)
    decision = _apply(session=session, app=app, move=move, step=step, actor=actor, office=office, reason=reason,
                      decided_at=decided_at, now=now, config=config,
                      source_file=source_file, source_row=source_row)
    session.flush()
    return decision


@dataclass(frozen=True)
class Request:
    """One decision of a batch (decide_many)."""

    app: Application
    stage: str
    action: str
    actor: str
    office: str
    reason: str | None
    decided_at: dt.datetime
    source_file: str | None = None
    source_row: int | None = None


def lock_applications(*, session: Session, ids: Collection[int]) -> dict[int, Application]:
    """lock_application for many, in one query (in id order, as every locker takes them)."""
    return {a.id: a for page in in_pages(sorted(ids)) for a in session.scalars(
        select(Application).where(Application.id.in_(page)).order_by(Application.id)
        .with_for_update().execution_options(populate_existing=True))}


def decide_many(*, session: Session, requests: Sequence[Request], now: dt.datetime,
                config: Config, strict: bool = False) -> list[rules.Move | IllegalMove]:
    """decide() for many decisions in one go, in order, for applications the caller has
    locked in this transaction (lock_applications; issuance locks its chunk FOR UPDATE).
    Where the applications stand and their open steps are read in two queries for the
    whole batch; the moves are played in memory with the pure rules and written set-wise:
    the decisions and the steps entered in one multi-row INSERT each, the steps left in
    one UPDATE by id (an ORM object a row costs one INSERT a row on SQLite). An illegal
    move gives its IllegalMove and writes nothing (`strict`: raises it, and the caller
    rolls back). The database key still refuses a decision some other decider recorded
    meanwhile: IntegrityError here, and the caller's transaction rolls back. The
    applications' own changes are the caller's to flush."""
    apps = {r.app.id: r.app for r in requests}
    positions = positions_of(session=session, apps=list(apps.values()))
    batch = _Batch(steps=_open_step_ids(session=session, app_ids=list(apps)))
    out: list[rules.Move | IllegalMove] = []
    for r in requests:
        try:
            move = rules.decide(positions[r.app.id], stage=r.stage, action=r.action,
                                kinds=config.chains.kinds, reason=r.reason)
        except IllegalMove as exc:
            if strict:
                raise
            out.append(exc)
            continue
        positions[r.app.id] = rules.after(positions[r.app.id], move)
        _play(session=session, batch=batch, r=r, move=move, now=local(now), config=config)
        out.append(move)
    batch.write(session=session, now=local(now))
    return out


@dataclass
class _Batch:
    """What decide_many writes, gathered while its moves are played: rows, not objects."""

    steps: dict[tuple[int, int], int | dict]  # open step of (application, index): its id, or a row entered here
    decisions: list[dict] = field(default_factory=list)
    entered: list[dict] = field(default_factory=list)
    left: list[dict] = field(default_factory=list)
    passed: list[tuple[Application, dict]] = field(default_factory=list)
    dues: dict[tuple[str, dt.datetime], dt.datetime | None] = field(default_factory=dict)

    def due(self, config: Config, stage: str, entered: dt.datetime) -> dt.datetime | None:
        if (stage, entered) not in self.dues:  # one calendar look-up (and warning) a stage
            self.dues[(stage, entered)] = _due(config, stage, entered)
        return self.dues[(stage, entered)]

    def write(self, *, session: Session, now: dt.datetime) -> None:
        insert_rows(session=session, model=Decision, rows=self.decisions)
        insert_rows(session=session, model=ReviewStep, rows=self.entered)
        if self.left:
            session.execute(update(ReviewStep), self.left)
        if self.passed:
            outbox.enqueue_many(session=session, items=passed_review_notices(session=session, passed=self.passed),
                                now=now)


def _play(*, session: Session, batch: _Batch, r: Request, move: rules.Move, now: dt.datetime,
          config: Config) -> None:
    """One legal move of a batch: _apply's writes as rows in `batch`, the application's
    own columns on its object; a return or rejection notice at once, as decide() sends it."""
    app, decided_at = r.app, local(r.decided_at)
    decision = {"application_id": app.id, "revision": app.current_revision, "stage_index": move.stage_index,
                "stage": move.stage, "action": move.action, "actor": r.actor[:64], "office": r.office[:128],
                "reason": r.reason, "decided_at": decided_at, "recorded_at": now, "source_file": r.source_file,
                "source_row": r.source_row}
    batch.decisions.append(decision)
    step = batch.steps.pop((app.id, move.stage_index), None)
    if isinstance(step, int):
        batch.left.append({"id": step, "left_at": decided_at, "outcome": move.action})
    else:
        if step is None:  # placed on its stage without enter_chain (older data, samples)
            step = {"application_id": app.id, "stage_index": move.stage_index, "stage": move.stage,
                    "entered_at": decided_at, "due_at": None}
            batch.entered.append(step)
        step["left_at"], step["outcome"] = decided_at, move.action
    if move.next_index is not None:
        nxt = {"application_id": app.id, "stage_index": move.next_index, "stage": move.next_stage,
               "entered_at": decided_at, "due_at": batch.due(config, move.next_stage or "", decided_at),
               "left_at": None, "outcome": None}
        batch.entered.append(nxt)
        batch.steps[(app.id, move.next_index)] = nxt  # the next decision of the batch leaves it
        app.stage_index, app.stage = move.next_index, move.next_stage
    app.status = move.status
    if move.ends:
        app.holds_year_slot = False  # no longer active: the year's slot is free again
    if move.returns_to_applicant:
        enqueue_return(session=session, app=app, stage=move.stage, reason=r.reason or "", now=now)
    elif move.ends:
        _notify_rejected(session=session, app=app, stage=move.stage, reason=r.reason or "", now=now)
    elif move.action == "approve" and notices.passes_review(app.chain or (), move.stage_index,
                                                            config.chains.kinds):
        batch.passed.append((app, decision))


def positions_of(*, session: Session, apps: Sequence[Standing]) -> dict[int, rules.Position]:
    decided = decided_of(session=session, ids=[a.id for a in apps], columns=())
    return positions_from(apps, decided)


class Standing(Protocol):
    """What positions_from reads of an application: an Application, or a row of its columns."""

    @property
    def id(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def chain(self) -> list[Any] | None: ...
    @property
    def stage_index(self) -> int | None: ...
    @property
    def current_revision(self) -> int: ...


def decided_of(*, session: Session, ids: Sequence[int], columns: Sequence[Any]) -> dict[int, list[tuple]]:
    """Each application's decisions, as (revision, stage index, *columns), in one query a page."""
    out: dict[int, list[tuple]] = defaultdict(list)
    for page in in_pages(list(ids)):
        for app_id, *row in session.execute(select(
                Decision.application_id, Decision.revision, Decision.stage_index, *columns)
                .where(Decision.application_id.in_(page))):
            out[app_id].append(tuple(row))
    return out


def positions_from(apps: Sequence[Standing], decided: dict[int, list[tuple]]) -> dict[int, rules.Position]:
    """Where each application stands, its decisions read already (decided_of)."""
    return {a.id: rules.Position(status=a.status, chain=tuple(a.chain or ()), stage_index=a.stage_index,
                                 revision=a.current_revision,
                                 decided=frozenset(d[1] for d in decided.get(a.id, ()) if d[0] == a.current_revision))
            for a in apps}


def _open_step_ids(*, session: Session, app_ids: list[int]) -> dict[tuple[int, int], int | dict]:
    """The id of the latest open step of each (application, stage index), as _open_step finds one."""
    steps: dict[tuple[int, int], int | dict] = {}
    for page in in_pages(app_ids):
        for step_id, app_id, index in session.execute(select(ReviewStep.id, ReviewStep.application_id,
                                                             ReviewStep.stage_index).where(
                ReviewStep.application_id.in_(page), ReviewStep.left_at.is_(None)).order_by(ReviewStep.id)):
            steps[(app_id, index)] = step_id  # the highest id wins
    return steps


def _apply(*, session: Session, app: Application, move: rules.Move, step: ReviewStep | None,
           actor: str, office: str, reason: str | None, decided_at: dt.datetime,
           now: dt.datetime, config: Config, source_file: str | None = None,
           source_row: int | None = None) -> Decision:
    """Write a legal move of decide(): the decision, the step left and the one entered,
    the application's stage and status, and what a return, a rejection or passing review
    sends (decide_many's _play writes the same as rows)."""
    decided_at, now = local(decided_at), local(now)
    decision = Decision(application_id=app.id, revision=app.current_revision,
                        stage_index=move.stage_index, stage=move.stage, action=move.action,
                        actor=actor[:64], office=office[:128], reason=reason, decided_at=decided_at,
                        recorded_at=now, source_file=source_file, source_row=source_row)
    _record_once(session=session, decision=decision)
    if step is None:  # placed on its stage without enter_chain (older data, samples)
        step = ReviewStep(application_id=app.id, stage_index=move.stage_index, stage=move.stage,
                          entered_at=decided_at, due_at=None)
        session.add(step)
    step.left_at, step.outcome = decided_at, move.action
    if move.next_index is not None:
        session.add(ReviewStep(application_id=app.id, stage_index=move.next_index, stage=move.next_stage,
                               entered_at=decided_at, due_at=_due(config, move.next_stage or "", decided_at)))
        app.stage_index, app.stage = move.next_index, move.next_stage
    app.status = move.status
    if move.ends:
        app.holds_year_slot = False  # no longer active: the year's slot is free again
    if move.returns_to_applicant:
        enqueue_return(session=session, app=app, stage=move.stage, reason=reason or "", now=now)
    elif move.ends:
        _notify_rejected(session=session, app=app, stage=move.stage, reason=reason or "", now=now)
    elif move.action == "approve" and notices.passes_review(app.chain or (), move.stage_index,
                                                            config.chains.kinds):
        passed = [(app, {"revision": decision.revision, "stage": decision.stage, "office": decision.office,
                         "decided_at": decision.decided_at})]
        outbox.enqueue_many(session=session, items=passed_review_notices(session=session, passed=passed), now=now)
    return decision


def _record_once(*, session: Session, decision: Decision) -> None:
    """Write the decision before anything else moves. The row lock keeps deciders apart;
    where it does not hold (SQLite ignores FOR UPDATE, a path that skips the lock), the
    database's unique key (application, revision, stage) refuses the second one, and the
    loser gets the same refusal as from the state machine, not an IntegrityError."""
    try:
        if session.get_bind().dialect.name == "postgresql":
            with session.begin_nested():  # the refusal leaves the caller's transaction usable
                session.add(decision)
        else:  # pysqlite's savepoints would commit the outer work; SQLite keeps the statement atomic
            session.add(decision)
            session.flush()
    except IntegrityError as exc:
        if not is_decision_key(exc):
            raise
        raise rules.already_decided(decision.stage, decision.revision) from None


def is_decision_key(exc: IntegrityError) -> bool:
    diag = getattr(exc.orig, "diag", None)  # psycopg names the constraint
    if diag is not None and getattr(diag, "constraint_name", None):
        return diag.constraint_name == DECISION_KEY
    return "decisions.stage_index" in str(exc.orig)  # SQLite: "UNIQUE constraint failed: decisions...."


def _open_step(*, session: Session, app: Application, stage_index: int) -> ReviewStep | None:
    return session.scalars(select(ReviewStep).where(
        ReviewStep.application_id == app.id, ReviewStep.stage_index == stage_index,
        ReviewStep.left_at.is_(None)).order_by(ReviewStep.id.desc()).limit(1)).first()


def return_key(app: Application, stage: str) -> str:
    return f"return:{app.submission_id}:r{app.current_revision}:{stage}"


def enqueue_return(*, session: Session, app: Application, stage: str, reason: str,
                   now: dt.datetime) -> None:
    """The hall's returns request (external-systems.md §1), sent by the delivery step."""
    key = return_key(app, stage)
    person = session.get(Applicant, app.applicant_id) if app.applicant_id else None
    outbox.enqueue(session=session, target="hall_return", kind="return", dedupe_key=key, now=now, payload={
        "submission_id": app.submission_id, "revision": app.current_revision, "stage": stage,
        "reasons": [{"code": RETURN_CODE, "message": _for_applicant(reason, person)}],
        "idempotency_key": key})


def _for_applicant(text: str, person: Applicant | None) -> str:
    """A reason an officer typed, as it goes to the applicant by SMS: their own ID and
    phone numbers masked (the decision keeps it as typed)."""
    return redact(text, id_number=person.id_number, phone=person.phone) if person else text


def _notify_rejected(*, session: Session, app: Application, stage: str, reason: str,
                     now: dt.datetime) -> None:
    person = session.get(Applicant, app.applicant_id) if app.applicant_id else None
    if person is None:
        return
    key = f"rejected:{app.submission_id}:r{app.current_revision}"
    outbox.enqueue(session=session, target="hall_notification", kind="rejected", dedupe_key=key, now=now,
                   payload={"id_number": person.id_number, "template": "rejected",
                            "params": {"name": person.name, "submission_id": app.submission_id,
                                       "stage": stage, "reason": _for_applicant(reason, person)},
                            "idempotency_key": key})


def passed_review_notices(*, session: Session, passed: Sequence[tuple[Application, dict]]) -> list[dict]:
    """The `passed_review` notices (seed 003:42) of applications that passed their last
    review stage (each with its decision's revision, stage, office and decided_at), as
    outbox items; their applicants read in one query."""
    people = outbox.addressees(session=session,
                               applicant_ids={app.applicant_id for app, _ in passed if app.applicant_id})
    out = []
    for app, decision in passed:
        person = people.get(app.applicant_id or 0)
        if person is None:
            continue
        key = notices.passed_review_key(app.submission_id, decision["revision"])
        params = notices.passed_review_params(
            name=person.name, submission_id=app.submission_id, track=app.track, stage=decision["stage"],
            office=decision["office"], decided_on=local(decision["decided_at"]).date())
        out.append(notices.outbox_item(template=notices.PASSED_REVIEW, key=key, id_number=person.id_number,
                                       params=params))
    return out


# -- time limits ----------------------------------------------------------------------

def stage_limit_days(config: Config, stage: str) -> int | None:
    return config.policy.stage_time_limits_days.for_kind(config.chains.kinds.get(stage, ""))


# (stage, year): stages entered without a deadline because the working-day calendar
# lacks the year. A flow takes them once a run and says so once (a warning here would
# repeat for every application entering the stage).
_calendar_gaps: set[tuple[str, int]] = set()
_gaps_lock = threading.Lock()


def _due(config: Config, stage: str, entered: dt.datetime) -> dt.datetime | None:
    """The stage's deadline on the working-day calendar; None without a limit, or when
    the calendar lacks the year (the overdue flow fills it in once the year is added)."""
    days = stage_limit_days(config, stage)
    if not days:
        return None
    from zhicheng.workspace import working_calendar
    try:
        return rules.due_at(local(entered), days, working_calendar(config.directory))
    except CalendarYearNotCovered as exc:
        log.debug("no deadline for stage %s entered %s: %s", stage, entered, exc)
        with _gaps_lock:
            _calendar_gaps.add((stage, exc.year))
        return None


def take_calendar_gaps() -> list[tuple[str, int]]:
    """The (stage, year) gaps met in this process since the last call, then forgets them."""
    with _gaps_lock:
        gaps = sorted(_calendar_gaps)
        _calendar_gaps.clear()
    return gaps


def calendar_gap_notes(gaps) -> list[str]:
    """One line a missing calendar year, for staff: which stages have no deadline yet."""
    by_year: dict[int, list[str]] = defaultdict(list)
    for stage, year in sorted({tuple(g) for g in gaps}):
        by_year[year].append(stage)
    return [f"工作日历缺少 {year} 年的数据：进入{'、'.join(stages)}环节的办件暂无办理时限；"
            f"请按国务院 {year} 年节假日安排补充 config/calendar/{year}.yaml，补充后超期统计自动补上"
            for year, stages in sorted(by_year.items())]
