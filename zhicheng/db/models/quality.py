"""What every data-quality run found, check by check (issue 24): the history a data team
charts (failed rows by check and day), and what the next run's artifact compares with."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from zhicheng.db.base import Base


class QualityResult(Base):
    """One expectation's outcome in one run (a team's own expectations too): a run of
    the registry's suites, or the check of a staff file (its suite `file_<kind>...`)."""

    __tablename__ = "quality_results"
    __table_args__ = (Index("ix_quality_results_check", "suite", "check_name", "run_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[str] = mapped_column(String(64), index=True)
    run_at: Mapped[dt.datetime]           # the run's moment (as_of)
    recorded_at: Mapped[dt.datetime]
    batch_year: Mapped[int | None]
    suite: Mapped[str] = mapped_column(String(64))
    check_name: Mapped[str] = mapped_column(String(200))
    team: Mapped[bool]                    # a data team's own expectation, not zhicheng's
    success: Mapped[bool]
    unexpected_count: Mapped[int | None]
    checked: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    file_name: Mapped[str | None] = mapped_column(String(255))  # a staff file's check; None: the registry's
