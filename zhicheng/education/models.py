"""学信 (CHSI) answers kept for audit and reuse, and the education check of each
declared entry and each uploaded 学信 report."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zhicheng.db.base import Base


class ChsiAnswer(Base):
    """One definite answer of 学信, as received; reused while younger than the configured age."""

    __tablename__ = "chsi_answers"
    __table_args__ = (Index("ix_chsi_answers_lookup", "kind", "lookup_key", "fetched_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))          # records | report
    lookup_key: Mapped[str] = mapped_column(String(128))   # "<id_number>|<name>" or the online code
    status: Mapped[int]                                    # 200, 404 (no_match / unknown), 410 (expired)
    body: Mapped[dict[str, Any]]
    fetched_at: Mapped[dt.datetime]


class EducationCheck(Base):
    """The outcome for one subject of one revision: a declared entry ("entry:<index>")
    or an uploaded report ("report:<material_id>")."""

    __tablename__ = "education_checks"
    __table_args__ = (UniqueConstraint("application_id", "revision", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    revision: Mapped[int]
    subject: Mapped[str] = mapped_column(String(80))
    # verified | mismatched | not_held | no_match | unavailable | (reports) valid | expired | unknown |
    # other_person | unreadable | pending_file
    outcome: Mapped[str] = mapped_column(String(16), index=True)
    fields: Mapped[list[Any]]
    record: Mapped[dict[str, Any] | None]
    answer_id: Mapped[int | None] = mapped_column(ForeignKey("chsi_answers.id"))
    checked_at: Mapped[dt.datetime]
