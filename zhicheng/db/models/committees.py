"""Expert committees (评委会), their members, and batches with declaration periods."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zhicheng.db.base import Base


class Committee(Base):
    __tablename__ = "committees"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    tier: Mapped[str] = mapped_column(String(4))  # 省 | 市 | 县区
    region_code: Mapped[str] = mapped_column(String(6))
    delegated: Mapped[bool] = mapped_column(Boolean, default=False)
    issuer_name: Mapped[str] = mapped_column(String(200))
    series: Mapped[str] = mapped_column(String(32))
    specialties: Mapped[list[Any]]
    levels: Mapped[list[Any]]
    covered_regions: Mapped[list[Any]]


class CommitteeMember(Base):
    __tablename__ = "committee_members"
    __table_args__ = (UniqueConstraint("committee_id", "member_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    committee_id: Mapped[str] = mapped_column(ForeignKey("committees.id"))
    member_code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    employer_name: Mapped[str | None] = mapped_column(String(200))
    employer_uscc: Mapped[str | None] = mapped_column(String(18))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Batch(Base):
    """A batch year of one committee (or of the title offices, committee_key '-')."""

    __tablename__ = "batches"
    __table_args__ = (UniqueConstraint("year", "committee_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    committee_key: Mapped[str] = mapped_column(String(64))
    opens_on: Mapped[dt.date]
    closes_on: Mapped[dt.date]
    open_for_submissions: Mapped[bool] = mapped_column(Boolean, default=True)
