"""Pushing returns (退回修改) and notifications to the hall, one request per item.

Each item carries its own `idempotency_key`, so sending it again after a lost answer
sends no second SMS. The same attempt, back-off and dead-letter rules as the province
batches (zhicheng.delivery.service); a chunk commits once at its end, and a crash inside
it only means some items are sent again, which the hall answers as replays.

A chunk's requests go `in_flight` at a time (outbox.hall_requests_in_flight): the
contract has no batch form, and one request after another leaves every item waiting
out the network and the hall in turn. Once the hall stops answering no new request
starts; the answers of those already in flight are kept.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from zhicheng.connectors.errors import Rejected, Unavailable
from zhicheng.connectors.in_flight import NOT_SENT, until_outage
from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import OutboxItem
from zhicheng.delivery.service import describe, is_due
from zhicheng.domain.delivery import after_failure

HALL_TARGETS = ("hall_return", "hall_notification", "hall_cancellation")


def due_items(*, session: Session, now: dt.datetime) -> list[int]:
    """Pending hall items whose time has come, in queue order."""
    rows = session.execute(select(OutboxItem.id, OutboxItem.next_attempt_at).where(
        OutboxItem.target.in_(HALL_TARGETS), OutboxItem.status == "pending").order_by(OutboxItem.id))
    return [i for i, next_at in rows if is_due(next_at, now)]


@dataclass
class HallOutcome:
    sent: int = 0
    replayed: int = 0
    retry: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    dead: list[dict[str, Any]] = field(default_factory=list)
    paused: bool = False       # the hall stopped answering: the rest waits for the next run

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def send_chunk(sessions: sessionmaker[Session], *, client: Any, item_ids: list[int],
               now: dt.datetime, max_attempts: int, in_flight: int = 1) -> HallOutcome:
    out = HallOutcome()
    with unit_of_work(sessions) as session:
        items = session.scalars(select(OutboxItem).where(
            OutboxItem.id.in_(item_ids), OutboxItem.status == "pending").order_by(OutboxItem.id)).all()
        answers = _send_all(client, [(item.target, dict(item.payload)) for item in items], in_flight)
        for item, answer in zip(items, answers, strict=True):
            if answer is not NOT_SENT:
                _record(item, answer, now, max_attempts, out)
    return out


def _send_all(client: Any, calls: list[tuple[str, dict[str, Any]]], in_flight: int) -> list[Any]:
    """Each call's receipt, or its Unavailable or Rejected, or NOT_SENT; in queue order."""
    return until_outage(lambda call: _call(client, *call), calls, in_flight=in_flight,
                        kept=(Rejected, Unavailable), outage=lambda answer: isinstance(answer, Unavailable))


def _record(item: OutboxItem, answer: Any, now: dt.datetime, max_attempts: int, out: HallOutcome) -> None:
    item.attempts += 1
    if isinstance(answer, Unavailable):
        item.last_error = str(answer)
        wait = after_failure(item.attempts, max_attempts)
        if wait is None:
            item.status = "dead"
            out.dead.append(describe(item))
        else:
            item.next_attempt_at = now + dt.timedelta(seconds=wait)
            out.retry += 1
        out.paused = True
        return
    if isinstance(answer, Rejected):
        item.status, item.last_error, item.sent_at = "rejected", str(answer), now
        item.result = {"status": "rejected", "error": answer.code}
        out.rejected.append(describe(item))
        return
    item.status, item.sent_at, item.last_error = "sent", now, None
    item.result = {"id": answer.id, "replayed": answer.replayed}
    out.sent += 1
    out.replayed += int(answer.replayed)


def _call(client: Any, target: str, p: dict[str, Any]):
    if target == "hall_cancellation":
        return client.answer_cancellation(p["cancellation_id"], accepted=bool(p["accepted"]),
                                          reasons=p.get("reasons") or [], idempotency_key=p["idempotency_key"])
    if target == "hall_return":
        return client.post_return(p["submission_id"], revision=int(p["revision"]), stage=p["stage"],
                                  reasons=p["reasons"], idempotency_key=p["idempotency_key"])
    return client.notify(id_number=p["id_number"], template=p["template"], params=p.get("params") or {},
                         idempotency_key=p["idempotency_key"])


def push_hall(*, sessions: sessionmaker[Session], client: Any, now: dt.datetime, chunk_size: int,
              max_attempts: int, in_flight: int = 1) -> dict[str, Any]:
    """Every due hall item, chunk by chunk, without Prefect (the flow composes the same)."""
    with sessions() as session:
        ids = due_items(session=session, now=now)
    total = HallOutcome()
    for i in range(0, len(ids), chunk_size):
        merge(total, send_chunk(sessions, client=client, item_ids=ids[i:i + chunk_size], now=now,
                                max_attempts=max_attempts, in_flight=in_flight).as_dict())
        if total.paused:
            break
    return total.as_dict()


def merge(total: HallOutcome, part: dict[str, Any]) -> HallOutcome:
    total.sent += part["sent"]
    total.replayed += part["replayed"]
    total.retry += part["retry"]
    total.rejected += part["rejected"]
    total.dead += part["dead"]
    total.paused = total.paused or part["paused"]
    return total
