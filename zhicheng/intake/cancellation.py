"""取消申请: the hall's cancellations, pulled and answered (seed 000:83-93).

An extension of the hall's contract (docs/lifecycle.md): `GET /api/v1/cancellations`
lists applicants' cancellations in order (cursor as for submissions), and `POST
/api/v1/cancellations/{id}/answer` tells the hall whether it was accepted and, if not,
why. A hall without the extension answers 404 and nothing happens.

Each cancellation is decided under the application's row lock
(zhicheng.domain.cancellation): before the point of no return the application becomes
`withdrawn` (every flow works only on the statuses before it, so no further work is done
on it, and it frees its applicant's year) with a `withdraw` decision saying so, by the
applicant, like every other end of an application, and it leaves the publicity windows
and vote agendas it is on (their entries marked withdrawn, kept on the record); after it, the answer refuses with the
reason. The answer goes through the outbox (target `hall_cancellation`) in the same
transaction, and the cursor moves on in it too: a crash re-reads the page, finds the
answers already queued (their dedupe key) and changes nothing.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from zhicheng import outbox
from zhicheng.clock import local
from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import Applicant, Application, SyncCursor
from zhicheng.domain.application_status import ApplicationStatus
from zhicheng.domain.cancellation import verdict, withdrawal_at, withdrawal_reason
from zhicheng.domain.privacy import redact
from zhicheng.intake.service import submission_stage
from zhicheng.publicity import service as publicity
from zhicheng.review.models import Decision, ReviewStep
from zhicheng.votes import service as votes

CURSOR = "hall_cancellations"
TARGET = "hall_cancellation"
ACTOR, OFFICE = "申请人", "网上办事服务大厅"


def decide(*, session: Session, item: dict[str, Any], config: Any, now: dt.datetime) -> bool:
    """Apply one cancellation and queue its answer; returns whether it was accepted."""
    sid, cid = str(item.get("submission_id") or ""), str(item.get("cancellation_id") or "")
    app = session.scalar(select(Application).where(Application.submission_id == sid).with_for_update())
    accepted, code = verdict(app.status if app is not None else None)
    if accepted:
        assert app is not None, "verdict accepts no unknown submission"
        if app.status != ApplicationStatus.WITHDRAWN:
            record_withdrawal(session=session, app=app, item=item, config=config, now=now)
            app.status, app.holds_year_slot, app.updated_at = ApplicationStatus.WITHDRAWN, False, now
        # again on a repeated delivery: an entry left behind before is settled now
        publicity.withdraw(session=session, application_id=app.id)
        votes.withdraw(session=session, application_id=app.id)
    reasons = [] if accepted else [{"code": code, "message": config.findings.make(code, value=sid).message}]
    key = f"cancellation:{cid}"
    outbox.enqueue(session=session, target=TARGET, kind="cancellation", dedupe_key=key, now=now,
                   payload={"cancellation_id": cid, "submission_id": sid, "accepted": accepted,
                            "reasons": reasons, "idempotency_key": key})
    return accepted


def record_withdrawal(*, session: Session, app: Application, item: dict[str, Any], config: Any,
                      now: dt.datetime) -> Decision | None:
    """The decision that says why the application ended (action `withdraw`, by the
    applicant), written before its status changes, and its open review step left. The
    applicant's words go in with their own ID and phone numbers masked."""
    decided = set(session.scalars(select(Decision.stage_index).where(
        Decision.application_id == app.id, Decision.revision == app.current_revision)))
    at = withdrawal_at(status=app.status, chain=app.chain, stage_index=app.stage_index, decided=decided,
                       submission_stage=submission_stage(app, config))
    if at is None:
        return None
    now = local(now)
    person = session.get(Applicant, app.applicant_id) if app.applicant_id else None
    words = item.get("reason") if isinstance(item.get("reason"), str) else None
    reason = withdrawal_reason(cancellation_id=str(item.get("cancellation_id") or ""),
                               requested_at=str(item["requested_at"]) if item.get("requested_at") else None,
                               reason=words)
    if person is not None:
        reason = redact(reason, id_number=person.id_number, phone=person.phone)
    decision = Decision(application_id=app.id, revision=app.current_revision, stage_index=at[0], stage=at[1],
                        action="withdraw", actor=ACTOR, office=OFFICE, reason=reason, decided_at=now,
                        recorded_at=now)
    session.add(decision)
    for step in session.scalars(select(ReviewStep).where(ReviewStep.application_id == app.id,
                                                         ReviewStep.left_at.is_(None))):
        step.left_at, step.outcome = now, "withdraw"
    session.flush()
    return decision


def pull(sessions: sessionmaker[Session], *, hall: Any, config: Any, now: dt.datetime,
         limit: int = 100) -> dict[str, Any]:
    """Every new cancellation, a page a transaction. {"supported": False} for a hall
    without the extension."""
    out = {"supported": True, "accepted": 0, "refused": 0}
    while True:
        with sessions() as session:
            row = session.get(SyncCursor, CURSOR)
            cursor = row.cursor if row else None
        page = hall.cancellations(cursor, limit)
        if page is None:
            return {**out, "supported": False}
        with unit_of_work(sessions) as session:
            for item in page.items:
                if isinstance(item, dict):
                    out["accepted" if decide(session=session, item=item, config=config, now=now) else "refused"] += 1
            if page.next_cursor is not None:
                row = session.get(SyncCursor, CURSOR) or SyncCursor(name=CURSOR)
                row.cursor, row.updated_at = page.next_cursor, now
                session.add(row)
        if page.next_cursor is None or not page.items:
            return out
