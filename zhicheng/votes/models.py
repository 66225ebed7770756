"""Expert votes (专家评审): sessions, their agenda and attendance, recusals, ballots."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zhicheng.db.base import Base


class VotingSession(Base):
    __tablename__ = "voting_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    committee_id: Mapped[str] = mapped_column(ForeignKey("committees.id"))
    held_on: Mapped[dt.date]
    members_total: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="open")


class AgendaItem(Base):
    __tablename__ = "agenda_items"
    __table_args__ = (UniqueConstraint("session_id", "application_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("voting_sessions.id"))
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    outcome: Mapped[str | None] = mapped_column(String(16))


class Attendance(Base):
    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("session_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("voting_sessions.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("committee_members.id"))
    present: Mapped[bool] = mapped_column(Boolean)


class Recusal(Base):
    __tablename__ = "recusals"
    __table_args__ = (UniqueConstraint("session_id", "member_id", "application_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("voting_sessions.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("committee_members.id"))
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    reason: Mapped[str] = mapped_column(Text)


class Ballot(Base):
    """A secret ballot: reports show tallies only, never who voted how.

    Not unique per (session, application, member): a second ballot is kept so that the
    tally can report the duplicate (an anomaly) instead of silently dropping it. A
    human resolves an anomaly by voiding ballots (voided_at, void_reason).
    """

    __tablename__ = "ballots"
    # by source file: an import skips what its file already stored (migration 0011)
    __table_args__ = (Index("ix_ballots_session_application", "session_id", "application_id"),
                      Index("ix_ballots_session_source", "session_id", "source_file"))

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("voting_sessions.id"))
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("committee_members.id"))
    vote: Mapped[str] = mapped_column(String(8))  # 同意 | 不同意 | 弃权 | 空白
    cast_by: Mapped[str | None] = mapped_column(String(32))  # who cast it, when not the member
    source_file: Mapped[str | None] = mapped_column(String(255))
    source_row: Mapped[int | None]
    voided_at: Mapped[dt.datetime | None]
    void_reason: Mapped[str | None] = mapped_column(Text)
