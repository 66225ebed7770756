"""Writing to the outbox: in the same transaction as the change it reports.

Targets: `province` (CertificateRecord upserts, drained in batches by the push flow),
`hall_return`, `hall_notification` and `hall_cancellation` (answers to 取消申请; one request
each, idempotent at the hall).
The dedupe key makes enqueueing idempotent: a re-run that enqueues the same thing
again finds it there and adds nothing.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhicheng.db.batches import in_pages
from zhicheng.db.models import Applicant, OutboxItem

TARGETS = ("province", "hall_return", "hall_notification", "hall_cancellation")


def enqueue(*, session: Session, target: str, kind: str, dedupe_key: str,
            payload: dict[str, Any], now: dt.datetime) -> OutboxItem:
    """Add an item unless one with the same target and dedupe key is already there."""
    existing = session.scalar(select(OutboxItem).where(
        OutboxItem.target == target, OutboxItem.dedupe_key == dedupe_key))
    if existing is not None:
        return existing
    item = _new(target=target, kind=kind, dedupe_key=dedupe_key, payload=payload, now=now)
    session.add(item)
    session.flush()
    return item


def enqueue_many(*, session: Session, items: list[dict[str, Any]], now: dt.datetime) -> None:
    """enqueue() for many items (each: target, kind, dedupe_key, payload): one query
    for those already there instead of a query and a flush an item. The caller flushes,
    so the inserts go out together."""
    new = [_new(**i, now=now) for i in items]   # checks every target before any query
    wanted = {(i["target"], i["dedupe_key"]) for i in items}
    seen = set(session.execute(select(OutboxItem.target, OutboxItem.dedupe_key).where(
        OutboxItem.target.in_({target for target, _ in wanted}),
        OutboxItem.dedupe_key.in_({key for _, key in wanted}))).tuples()) & wanted
    for item in new:
        if (item.target, item.dedupe_key) not in seen:
            seen.add((item.target, item.dedupe_key))
            session.add(item)


def _new(*, target: str, kind: str, dedupe_key: str, payload: dict[str, Any],
         now: dt.datetime) -> OutboxItem:
    if target not in TARGETS:
        raise ValueError(f"unknown outbox target {target!r}; one of {', '.join(TARGETS)}")
    return OutboxItem(target=target, kind=kind, dedupe_key=dedupe_key, payload=payload,
                      status="pending", attempts=0, created_at=now, next_attempt_at=now)


def addressees(*, session: Session, applicant_ids: set[int]) -> dict[int, Any]:
    """Name and ID number of the applicants a batch of notices goes to, by id: rows, not
    objects (a notice needs two columns, and loading whole applicants tripled an import)."""
    return {row.id: row for page in in_pages(sorted(applicant_ids)) for row in session.execute(
        select(Applicant.id, Applicant.name, Applicant.id_number).where(Applicant.id.in_(page)))}
