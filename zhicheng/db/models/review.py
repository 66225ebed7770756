"""The review chain as it happened: stages entered and left, and every decision.

`decisions` is the audit trail: written once, never updated or deleted. On both
engines triggers make the database itself refuse UPDATE and DELETE (and TRUNCATE on
PostgreSQL). A stage is
decided once per revision (a resubmission is a new revision and decides its stages
afresh): a unique index on (application, revision, stage) makes the database refuse
a second decision even when two deciders read the application before either wrote.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import DDL, ForeignKey, Index, Integer, String, Text, event
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


# Shared with the migration that creates the table, so both paths install it.
AUDIT_TRIGGER_SQL = (
    """
    CREATE OR REPLACE FUNCTION zhicheng_refuse_audit_change() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'audit trail %: % is not allowed (append-only)', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER decisions_append_only
        BEFORE UPDATE OR DELETE ON decisions
        FOR EACH ROW EXECUTE FUNCTION zhicheng_refuse_audit_change()
    """,
    """
    CREATE TRIGGER decisions_no_truncate
        BEFORE TRUNCATE ON decisions
        FOR EACH STATEMENT EXECUTE FUNCTION zhicheng_refuse_audit_change()
    """,
)

for _sql in AUDIT_TRIGGER_SQL:
    # DDL() %-formats its text, so the plpgsql placeholders are escaped.
    event.listen(Decision.__table__, "after_create",
                 DDL(_sql.replace("%", "%%")).execute_if(dialect="postgresql"))

# SQLite, the embedded default, has no trigger functions: one trigger per statement kind.
# (A batch migration that rebuilds `decisions` on SQLite must create them again.)
SQLITE_AUDIT_TRIGGER_SQL = tuple(
    f"CREATE TRIGGER IF NOT EXISTS decisions_append_only_{op.lower()} BEFORE {op} ON decisions "
    f"BEGIN SELECT RAISE(ABORT, 'audit trail decisions: {op} is not allowed (append-only)'); END"
    for op in ("UPDATE", "DELETE"))

for _sql in SQLITE_AUDIT_TRIGGER_SQL:
    event.listen(Decision.__table__, "after_create", DDL(_sql).execute_if(dialect="sqlite"))
