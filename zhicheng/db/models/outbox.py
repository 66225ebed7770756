"""The outbox: what must reach an external system, written in the same transaction
as the change it reports, and drained by the push flows."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zhicheng.db.base import Base


class OutboxItem(Base):
    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("target", "dedupe_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    target: Mapped[str] = mapped_column(String(20))  # province | hall_return | hall_notification (17 chars)
    kind: Mapped[str] = mapped_column(String(32))
    dedupe_key: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)  # pending | sent | rejected | dead
    attempts: Mapped[int] = mapped_column(default=0)
    batch_key: Mapped[str | None] = mapped_column(String(64), index=True)
    next_attempt_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None]
    created_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]
