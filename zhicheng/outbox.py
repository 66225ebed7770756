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

from zhicheng.db.batches import in_pages, insert_rows
from zhicheng.db.models import Applicant, OutboxItem

TARGETS = ("province", "hall_return", "hall_notification", "hall_cancellation")


def enqueue(*, session: Session, target: str, kind: str, dedupe_key: str,
            payload: dict[str, Any], now: dt.datetime) -> OutboxItem:
    """Add an item unless one with the same target and dedupe key is already there."""
    existing = session.scalar(select(OutboxItem).where(
        OutboxItem.target == target, OutboxItem.dedupe_key == dedupe_key))
    if existing is not None:
        return existing
    item = OutboxItem(**_row(target=target, kind=kind, dedupe_key=dedupe_key, payload=payload, now=now))
    session.add(item)
    session.flush()
    return item


def enqueue_many(*, session: Session, items: list[dict[str, Any]], now: dt.datetime) -> None:
    """enqueue() for many items (each: target, kind, dedupe_key, payload): one query
    for those already there, one executemany INSERT of the rest in the items' order
    (zhicheng.db.batches.insert_rows), instead of a query, an INSERT and a flush an item."""
    rows = [_row(**i, now=now) for i in items]   # checks every target before any query
    if not rows:
        return
    wanted = {(r["target"], r["dedupe_key"]) for r in rows}
    seen = {found for page in in_pages(sorted({key for _, key in wanted})) for found in session.execute(
        select(OutboxItem.target, OutboxItem.dedupe_key).where(
            OutboxItem.target.in_({target for target, _ in wanted}), OutboxItem.dedupe_key.in_(page))).tuples()}
    seen &= wanted
    fresh = []
    for row in rows:
        if (row["target"], row["dedupe_key"]) not in seen:
            seen.add((row["target"], row["dedupe_key"]))
            fresh.append(row)
    insert_rows(session=session, model=OutboxItem, rows=fresh)


def _row(*, target: str, kind: str, dedupe_key: str, payload: dict[str, Any],
         now: dt.datetime) -> dict[str, Any]:
    if target not in TARGETS:
        raise ValueError(f"unknown outbox target {target!r}; one of {', '.join(TARGETS)}")
    return {"target": target, "kind": kind, "dedupe_key": dedupe_key, "payload": payload, "status": "pending",
            "attempts": 0, "created_at": now, "next_attempt_at": now}


def addressees(*, session: Session, applicant_ids: set[int]) -> dict[int, Any]:
    """Name and ID number of the applicants a batch of notices goes to, by id: rows, not
    objects (a notice needs two columns, and loading whole applicants tripled an import)."""
    return {row.id: row for page in in_pages(sorted(applicant_ids)) for row in session.execute(
        select(Applicant.id, Applicant.name, Applicant.id_number).where(Applicant.id.in_(page)))}
