"""Pushing the outbox to the province: batches sent exactly once in effect.

Plan (one transaction): supersede what a newer version replaces, cut the rest into
batches of up to `chunks.push_batch` and write each batch's key on its items, then
commit, before anything is sent. Send (one batch): POST it with that key; a crash or a
timeout after the province applied it leaves the batch open, and the next run sends the
same items in the same order with the same key, which the province answers from its
stored answer without applying anything again. Store (one transaction): each record's
answer; `rejected` ones keep the province's error for staff.

A batch that stays unavailable waits `domain.delivery.backoff_seconds` between runs and
after `outbox.max_attempts` tries is parked as a dead letter (status `dead`): never
dropped, listed by `zhicheng push`, queued again by `zhicheng push --retry-dead`.
Statuses: pending, sent, rejected, dead, superseded, dismissed (by a human).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from zhicheng.connectors.errors import Rejected, Unavailable
from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import OutboxItem
from zhicheng.domain.delivery import (Candidate, after_failure, batch_key, body_fingerprint,
                                      chunked, select_to_send)
from zhicheng.domain.privacy import mask_id_number
from zhicheng.issuance.models import Certificate

PROVINCE = "province"
PROBLEMS = ("rejected", "dead")
IN_CLAUSE = 900  # ids per IN (...): well under every engine's bound on parameters

# What staff read for targets, statuses, batch outcomes and the province's answers
# (docs/glossary.md); the codes stay in --json and the database.
TARGET_WORDS = {"province": "省一体化平台", "hall_return": "网上办事服务大厅（退回）",
                "hall_notification": "网上办事服务大厅（通知）",
                "hall_cancellation": "网上办事服务大厅（取消申请答复）"}
STATUS_WORDS = {"pending": "待发送", "sent": "已送达", "rejected": "被拒收", "dead": "死信",
                "superseded": "已被新版本替代", "dismissed": "已人工处理"}
OUTCOME_WORDS = {"sent": "已送达", "retry": "对方不可用，稍后重试", "dead": "死信（停止重试）",
                 "rejected": "被拒收", "done": "无需发送"}
ANSWER_WORDS = {"created": "新增", "updated": "更新", "unchanged": "未变", "rejected": "拒收"}

RECORD_NO = OutboxItem.payload["certificate_no"].as_string()
RECORD_VERSION = OutboxItem.payload["version"].as_integer()


def policy(config: Any) -> tuple[int, int]:
    """(records per batch, attempts before a dead letter) from policy.yaml (its model
    keeps push_batch within the province's 1..500 and max_attempts at least 1)."""
    return config.policy.chunks.push_batch, config.policy.outbox.max_attempts


def is_due(next_attempt_at: dt.datetime | None, now: dt.datetime) -> bool:
    return next_attempt_at is None or next_attempt_at <= now


def in_slices(ids: Sequence[Any]) -> list[list[Any]]:
    return chunked(list(ids), IN_CLAUSE) if ids else []


# -- plan ------------------------------------------------------------------------------

@dataclass
class Plan:
    batches: list[str] = field(default_factory=list)   # open batch keys due now, oldest first
    formed: int = 0                                     # new batches this plan
    superseded: int = 0
    waiting: int = 0                                    # open batches not due yet


def plan_province(*, session: Session, now: dt.datetime, batch_size: int) -> Plan:
    """Supersede, form new batches (keys written on the items) and list the due ones.

    The caller commits before sending anything."""
    plan = Plan()
    candidates = [Candidate(i, no, v or 0) for i, no, v in session.execute(
        select(OutboxItem.id, RECORD_NO, RECORD_VERSION).where(
            OutboxItem.target == PROVINCE, OutboxItem.status == "pending",
            OutboxItem.batch_key.is_(None)).order_by(OutboxItem.id))]
    held = set(session.scalars(select(RECORD_NO).where(
        OutboxItem.target == PROVINCE, OutboxItem.status == "pending", OutboxItem.batch_key.is_not(None))))
    chosen = select_to_send(candidates, current=_current_versions(session=session, candidates=candidates),
                            in_open_batches=held)
    for ids in in_slices(chosen.superseded):
        session.execute(update(OutboxItem).where(OutboxItem.id.in_(ids))
                        .values(status="superseded", last_error="由更新的版本取代，未发送"))
    plan.superseded = len(chosen.superseded)
    for ids in chunked(chosen.send, batch_size) if chosen.send else []:
        _form_batch(session=session, ids=ids)
        plan.formed += 1
    session.flush()
    for key, _first, next_at in session.execute(
            select(OutboxItem.batch_key, func.min(OutboxItem.id), func.max(OutboxItem.next_attempt_at))
            .where(OutboxItem.target == PROVINCE, OutboxItem.status == "pending",
                   OutboxItem.batch_key.is_not(None))
            .group_by(OutboxItem.batch_key).order_by(func.min(OutboxItem.id))):
        if is_due(next_at, now):
            plan.batches.append(key)
        else:
            plan.waiting += 1
    return plan


def plan_exclusively(*, engine: Any, sessions: sessionmaker[Session], now: dt.datetime,
                     batch_size: int) -> Plan:
    """The plan under a lock: two pushes at once must not cut the same items into two
    different batches (the second would re-key the first's items)."""
    from zhicheng.locks import exclusive
    with exclusive(engine, "delivery-plan", now=now), unit_of_work(sessions) as session:
        return plan_province(session=session, now=now, batch_size=batch_size)


def _current_versions(*, session: Session, candidates: Sequence[Candidate]) -> dict[str, int]:
    nos = sorted({c.certificate_no for c in candidates if c.certificate_no})
    current: dict[str, int] = {}
    for part in in_slices(nos):
        current.update(session.execute(select(Certificate.certificate_no, Certificate.version)
                                       .where(Certificate.certificate_no.in_(part))).tuples().all())
    return current


def _form_batch(*, session: Session, ids: list[int]) -> str:
    rows = session.execute(select(OutboxItem.dedupe_key, OutboxItem.payload)
                           .where(OutboxItem.id.in_(ids)).order_by(OutboxItem.id)).all()
    key = batch_key([k for k, _ in rows], body_fingerprint([p for _, p in rows]))
    session.execute(update(OutboxItem).where(OutboxItem.id.in_(ids)).values(batch_key=key))
    return key


# -- send one batch ------------------------------------------------------------------------

@dataclass
class BatchOutcome:
    batch_key: str
    records: int = 0
    attempts: int = 0
    outcome: str = "done"       # sent | retry | dead | rejected | done (nothing left in it)
    counts: dict[str, int] = field(default_factory=dict)   # created, updated, unchanged, rejected
    rejected: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def send_batch(sessions: sessionmaker[Session], *, client: Any, key: str, now: dt.datetime,
               max_attempts: int) -> BatchOutcome:
    """Send one open batch and store the answer (Misconfigured propagates: fix settings)."""
    out = BatchOutcome(key)
    with sessions() as session:
        rows = session.execute(select(OutboxItem.id, OutboxItem.payload, OutboxItem.attempts)
                               .where(OutboxItem.batch_key == key, OutboxItem.status == "pending")
                               .order_by(OutboxItem.id)).all()
    if not rows:
        return out
    ids, records = [r[0] for r in rows], [r[1] for r in rows]
    out.records, out.attempts = len(rows), max(r[2] for r in rows) + 1
    try:
        results = client.batch_upsert(records, idempotency_key=key)
    except Unavailable as exc:
        return _failed(sessions, ids, out, exc, now, max_attempts)
    except Rejected as exc:  # the whole request refused (400/422): recorded, not retried
        return _refused(sessions, ids, out, exc, now)
    _after_send(key)
    with unit_of_work(sessions) as session:
        _store(session=session, ids=ids, records=records, results=results, out=out, now=now)
    return out


def _after_send(key: str) -> None:
    """A seam for tests that simulate a crash after the province answered."""


def _failed(sessions, ids, out: BatchOutcome, exc: Exception, now: dt.datetime,
            max_attempts: int) -> BatchOutcome:
    wait = after_failure(out.attempts, max_attempts)
    out.outcome, out.error = ("dead" if wait is None else "retry"), str(exc)
    values: dict[str, Any] = {"attempts": out.attempts, "last_error": str(exc)}
    if wait is None:
        values["status"] = "dead"
    else:
        values["next_attempt_at"] = now + dt.timedelta(seconds=wait)
    with unit_of_work(sessions) as session:
        session.execute(update(OutboxItem).where(OutboxItem.id.in_(ids)).values(**values))
    return out


def _refused(sessions, ids, out: BatchOutcome, exc: Rejected, now: dt.datetime) -> BatchOutcome:
    out.outcome, out.error = "rejected", str(exc)
    with unit_of_work(sessions) as session:
        session.execute(update(OutboxItem).where(OutboxItem.id.in_(ids)).values(
            status="rejected", attempts=out.attempts, last_error=str(exc), sent_at=now,
            result={"status": "rejected", "error": exc.code}))
    return out


def _store(*, session: Session, ids: list[int], records: list[dict], results: list, out: BatchOutcome,
           now: dt.datetime) -> None:
    groups: dict[tuple[str, str | None], list[int]] = {}
    for item_id, record, r in zip(ids, records, results, strict=True):
        groups.setdefault((r.status, r.error), []).append(item_id)
        out.counts[r.status] = out.counts.get(r.status, 0) + 1
        if r.status == "rejected":
            out.rejected.append({"certificate_no": record.get("certificate_no"),
                                 "version": record.get("version"), "error": r.error})
    for (status, error), group in groups.items():
        session.execute(update(OutboxItem).where(OutboxItem.id.in_(group)).values(
            status="rejected" if status == "rejected" else "sent", attempts=out.attempts,
            sent_at=now, last_error=error, result={"status": status, "error": error}))
    delivered = [(rec["certificate_no"], rec["version"]) for rec, r in zip(records, results, strict=True)
                 if r.status != "rejected"]
    _resolve_older_problems(session=session, delivered=delivered)
    out.outcome = "sent"


def _resolve_older_problems(*, session: Session, delivered: list[tuple[str, int]]) -> None:
    """A rejected or dead record is settled once a version as new or newer got through."""
    newest = dict(sorted(delivered, key=lambda d: d[1]))
    for part in in_slices(sorted(newest)):
        # by status alone, the target checked here: given the target too, SQLite reads
        # every province item through the (target, dedupe_key) index, once a batch
        # (38% of the push's time at 100,000 applications), where the problems are few
        rows = session.execute(select(OutboxItem.id, OutboxItem.target, RECORD_NO, RECORD_VERSION).where(
            OutboxItem.status.in_(PROBLEMS), RECORD_NO.in_(part))).all()
        settled = [i for i, target, no, v in rows if target == PROVINCE and (v or 0) <= newest[no]]
        if settled:
            session.execute(update(OutboxItem).where(OutboxItem.id.in_(settled))
                            .values(status="superseded"))


# -- problems and retries --------------------------------------------------------------

def problems(*, session: Session, limit: int = 200) -> dict[str, Any]:
    """Open rejected and dead items of every target (what needs a human), newest first."""
    counts = dict(session.execute(select(OutboxItem.status, func.count())
                                  .where(OutboxItem.status.in_(PROBLEMS))
                                  .group_by(OutboxItem.status)).tuples().all())
    rows = session.scalars(select(OutboxItem).where(OutboxItem.status.in_(PROBLEMS))
                           .order_by(OutboxItem.id.desc()).limit(limit))
    return {"rejected": counts.get("rejected", 0), "dead": counts.get("dead", 0),
            "items": [describe(i) for i in rows]}


def describe(item: OutboxItem) -> dict[str, Any]:
    """An item as staff see it (CLI, artifacts, logs): a notification is named by its
    certificate or submission, its addressee's ID number only masked."""
    p = item.payload or {}
    params = p.get("params")
    if not isinstance(params, dict):
        params = {}
    subject = (p.get("certificate_no") or p.get("submission_id") or params.get("certificate_no")
               or params.get("submission_id") or mask_id_number(p.get("id_number")) or None)
    return {"id": item.id, "target": item.target, "status": item.status, "subject": subject,
            "dedupe_key": item.dedupe_key, "attempts": item.attempts, "error": item.last_error}


def retry_dead(*, session: Session, now: dt.datetime) -> int:
    """Dead letters back in the queue, attempts from zero. Province records are planned
    afresh (a newer version may have come meanwhile, or part of their batch been settled,
    so the old key's body could no longer be the same); one the province had in fact
    applied then answers `unchanged`, not a second application."""
    result = session.execute(update(OutboxItem).where(OutboxItem.status == "dead").values(
        status="pending", attempts=0, next_attempt_at=now, batch_key=None))
    # an UPDATE's result is a CursorResult; SQLAlchemy 2.0 types session.execute as Result
    return result.rowcount or 0  # type: ignore[attr-defined]


def dismiss(*, session: Session, item_ids: Sequence[int], actor: str, now: dt.datetime) -> list[int]:
    """A human has dealt with these rejected or dead items another way: they stop being
    listed as problems (kept, with who and when, never deleted)."""
    items = session.scalars(select(OutboxItem).where(OutboxItem.id.in_(list(item_ids)),
                                                     OutboxItem.status.in_(PROBLEMS))).all()
    for item in items:
        item.status = "dismissed"
        item.result = {**(item.result or {}), "dismissed_by": actor, "dismissed_at": now.isoformat()}
    return [i.id for i in items]


# -- the whole push without Prefect (tests, benchmarks; the flow composes the same) -----

def push_province(*, sessions: sessionmaker[Session], client: Any, now: dt.datetime,
                  batch_size: int, max_attempts: int) -> dict[str, Any]:
    plan = plan_exclusively(engine=sessions.kw["bind"], sessions=sessions, now=now, batch_size=batch_size)
    outcomes = []
    for key in plan.batches:
        outcomes.append(send_batch(sessions, client=client, key=key, now=now, max_attempts=max_attempts))
        if outcomes[-1].outcome in ("retry", "dead"):
            break  # the province is not answering: the next run goes on from here
    return summarize_province(plan, [o.as_dict() for o in outcomes])


def summarize_province(plan: Plan, outcomes: list[dict[str, Any]]) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for o in outcomes:
        for status, n in o["counts"].items():
            counts[status] = counts.get(status, 0) + n
    return {"batches": outcomes, "formed": plan.formed, "superseded": plan.superseded,
            "waiting": plan.waiting, "sent": sum(o["records"] for o in outcomes if o["outcome"] == "sent"),
            "counts": counts, "rejected": [r for o in outcomes for r in o["rejected"]],
            "dead": [o["batch_key"] for o in outcomes if o["outcome"] == "dead"],
            "paused": any(o["outcome"] in ("retry", "dead") for o in outcomes)}
