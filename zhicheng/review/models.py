"""The review chain as it happened: stages entered and left, and every decision.

`decisions` is the audit trail: written once, never updated or deleted. On both
engines triggers make the database itself refuse UPDATE and DELETE (and TRUNCATE on
PostgreSQL): zhicheng.db.audit, with the other append-only tables. A stage is
decided once per revision (a resubmission is a new revision and decides its stages
afresh): a unique index on (application, revision, stage) makes the database refuse
a second decision even when two deciders read the application before either wrote.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from zhicheng.db.base import Base


class ReviewStep(Base):
    __tablename__ = "review_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    stage_index: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(64))
    entered_at: Mapped[dt.datetime]
    due_at: Mapped[dt.datetime | None]
    left_at: Mapped[dt.datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16))


DECISION_KEY = "uq_decisions_application_id_revision_stage_index"


class Decision(Base):
    __tablename__ = "decisions"
    __table_args__ = (Index(DECISION_KEY, "application_id", "revision", "stage_index", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    revision: Mapped[int]
    stage_index: Mapped[int]
    stage: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))  # approve | return | reject | withdraw | remove
    actor: Mapped[str] = mapped_column(String(64))
    office: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[dt.datetime]
    recorded_at: Mapped[dt.datetime]
    source_file: Mapped[str | None] = mapped_column(String(255))
    source_row: Mapped[int | None]
