"""Applications (办件) as the hall delivered them, their materials and findings."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (Boolean, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint, func, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from zhicheng.clock import SystemClock
from zhicheng.db.base import Base
from zhicheng.db.models.parties import Applicant, Employer
from zhicheng.domain.application_status import ApplicationStatus

# status of an application over its life
STATUSES = tuple(ApplicationStatus)


class Application(Base):
    __tablename__ = "applications"
    __table_args__ = (
        # 一人一年度一件: one active 初定 or 评审 application per applicant and batch year.
        Index("uq_applications_active_slot", "applicant_id", "batch_year", unique=True,
              sqlite_where=text("holds_year_slot"), postgresql_where=text("holds_year_slot")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[str] = mapped_column(String(64), unique=True)
    current_revision: Mapped[int] = mapped_column(Integer)
    applicant_id: Mapped[int | None] = mapped_column(ForeignKey("applicants.id"), index=True)
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("employers.id"))
    committee_id: Mapped[str | None] = mapped_column(ForeignKey("committees.id"), index=True)
    track: Mapped[str | None] = mapped_column(String(8))
    batch_year: Mapped[int | None]
    level: Mapped[str | None] = mapped_column(String(8))
    series: Mapped[str | None] = mapped_column(String(32))
    specialty: Mapped[str | None] = mapped_column(String(64))
    qualification_name: Mapped[str | None] = mapped_column(String(64))
    reporting_level: Mapped[str | None] = mapped_column(String(8))
    region_code: Mapped[str | None] = mapped_column(String(6))  # the employer's, as submitted
    # The employer as this application submitted it, shown on every list, report and
    # certificate: the `employers` row is keyed by USCC and holds the latest submission's
    # words, which any other applicant naming that USCC can change.
    employer_name: Mapped[str | None] = mapped_column(String(200))
    employer_nature: Mapped[str | None] = mapped_column(String(16))
    employer_supervising_dept: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=ApplicationStatus.RECEIVED, index=True)
    chain: Mapped[list[Any] | None]
    stage_index: Mapped[int | None]
    stage: Mapped[str | None] = mapped_column(String(64), index=True)
    holds_year_slot: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    # onupdate in Python, not SQL now(): SQLite compiles now() with literal parameters,
    # which cannot go in one executemany (a flush updating a validation chunk's passes)
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now(), onupdate=SystemClock().now)
    # Intake sets the parties through these, so a new applicant, employer and application
    # go in one flush (the unit of work fills the foreign keys); never loaded otherwise.
    applicant: Mapped[Applicant | None] = relationship(lazy="raise")
    employer: Mapped[Employer | None] = relationship(lazy="raise")


class ApplicationRevision(Base):
    """Every revision the hall delivered, kept whole (unknown fields included)."""

    __tablename__ = "application_revisions"
    __table_args__ = (UniqueConstraint("application_id", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    revision: Mapped[int]
    payload: Mapped[dict[str, Any]]
    payload_sha256: Mapped[str] = mapped_column(String(64))
    valid: Mapped[bool] = mapped_column(Boolean)
    received_at: Mapped[dt.datetime]


class Material(Base):
    __tablename__ = "materials"
    __table_args__ = (UniqueConstraint("application_id", "revision", "material_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    revision: Mapped[int]
    material_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(32))
    file_name: Mapped[str] = mapped_column(String(255))
    declared_size: Mapped[int | None]
    declared_sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None]
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    content_type: Mapped[str | None] = mapped_column(String(128))
    storage_path: Mapped[str | None] = mapped_column(String(255))
    fetched_at: Mapped[dt.datetime | None]


class Finding(Base):
    """One result of one check: code, severity, where, and the applicant's message."""

    __tablename__ = "findings"
    __table_args__ = (UniqueConstraint("application_id", "revision", "fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    revision: Mapped[int]
    source: Mapped[str] = mapped_column(String(16))  # intake | validation | chsi | review
    code: Mapped[str] = mapped_column(String(64), index=True)
    severity: Mapped[str] = mapped_column(String(8))  # error | warning | review
    field: Mapped[str | None] = mapped_column(String(128))
    material_id: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    params: Mapped[dict[str, Any]]
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]


class SyncCursor(Base):
    """Where a pull from an external system stopped (e.g. the hall's submissions)."""

    __tablename__ = "sync_cursors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime]
