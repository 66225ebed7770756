"""Who holds a named job now (zhicheng.locks)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from zhicheng.db.base import Base


class RunLock(Base):
    """Who runs a named job now (SQLite; PostgreSQL uses advisory locks instead)."""

    __tablename__ = "run_locks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    acquired_at: Mapped[dt.datetime]
