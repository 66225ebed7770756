"""Writing to the outbox: in the same transaction as the change it reports.

Targets: `province` (CertificateRecord upserts, drained in batches by the push flow),
`hall_return` and `hall_notification` (one request each, idempotent at the hall).
The dedupe key makes enqueueing idempotent: a re-run that enqueues the same thing
again finds it there and adds nothing.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhicheng.db.models import OutboxItem

TARGETS = ("province", "hall_return", "hall_notification")


def enqueue(session: Session, *, target: str, kind: str, dedupe_key: str,
            payload: dict[str, Any], now: dt.datetime) -> OutboxItem:
    """Add an item unless one with the same target and dedupe key is already there."""
    if target not in TARGETS:
        raise ValueError(f"unknown outbox target {target!r}; one of {', '.join(TARGETS)}")
    existing = session.scalar(select(OutboxItem).where(
        OutboxItem.target == target, OutboxItem.dedupe_key == dedupe_key))
    if existing is not None:
        return existing
    item = OutboxItem(target=target, kind=kind, dedupe_key=dedupe_key, payload=payload,
                      status="pending", attempts=0, created_at=now, next_attempt_at=now)
    session.add(item)
    session.flush()
    return item
