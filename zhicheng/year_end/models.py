"""The year-end run's bookkeeping: which steps of a batch year are done."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zhicheng.db.base import Base


class YearEndStep(Base):
    """A finished step of a batch year's year-end run: a re-run skips it."""

    __tablename__ = "year_end_steps"
    __table_args__ = (UniqueConstraint("batch_year", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_year: Mapped[int]
    step: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime]
    summary: Mapped[dict[str, Any]]
