"""Publicity windows (公示), who is on them, and objections (异议)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zhicheng.db.base import Base


class PublicityWindow(Base):
    __tablename__ = "publicity_windows"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # 单位 | 评前 | 评后 | 初定
    committee_id: Mapped[str | None] = mapped_column(ForeignKey("committees.id"))
    published_on: Mapped[dt.date]
    opens_on: Mapped[dt.date]
    closes_on: Mapped[dt.date]
    ends_at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(8), default="open")  # open | closed
    list_pdf_path: Mapped[str | None] = mapped_column(String(255))
    list_xlsx_path: Mapped[str | None] = mapped_column(String(255))
    closed_at: Mapped[dt.datetime | None]


class PublicityEntry(Base):
    __tablename__ = "publicity_entries"
    __table_args__ = (UniqueConstraint("window_id", "application_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    window_id: Mapped[int] = mapped_column(ForeignKey("publicity_windows.id"))
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(16), default="pending")  # pending | passed | held | removed | withdrawn


class Objection(Base):
    __tablename__ = "objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    window_id: Mapped[int] = mapped_column(ForeignKey("publicity_windows.id"))
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    lodged_at: Mapped[dt.datetime]
    content: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | upheld | dismissed
    decided_at: Mapped[dt.datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
    source_file: Mapped[str | None] = mapped_column(String(255))
    source_row: Mapped[int | None]
