"""Electronic certificates (电子证书), their serial counters and issuance runs."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zhicheng.db.base import Base


class SerialCounter(Base):
    """Next serial per issuer, year and level: gapless numbers are allocated here."""

    __tablename__ = "serial_counters"

    issuer_region_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    level_digit: Mapped[int] = mapped_column(primary_key=True)
    next_serial: Mapped[int] = mapped_column(default=1)


class IssuanceRun(Base):
    __tablename__ = "issuance_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
    merkle_root: Mapped[str | None] = mapped_column(String(64))
    certificates: Mapped[int] = mapped_column(default=0)


class Certificate(Base):
    __tablename__ = "certificates"
    __table_args__ = (UniqueConstraint("application_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_no: Mapped[str] = mapped_column(String(18), unique=True)
    version: Mapped[int] = mapped_column(default=1)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"))
    holder_name: Mapped[str] = mapped_column(String(64))
    holder_id_number: Mapped[str] = mapped_column(String(18), index=True)
    holder_gender: Mapped[str | None] = mapped_column(String(2))
    qualification_name: Mapped[str] = mapped_column(String(64))
    series: Mapped[str] = mapped_column(String(32))
    specialty: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(8))
    obtained_by: Mapped[str] = mapped_column(String(8))  # 评审 | 初定 | 认定 | 历史登记
    committee_name: Mapped[str | None] = mapped_column(String(200))
    approved_on: Mapped[dt.date]
    issued_on: Mapped[dt.date]
    issuer: Mapped[str] = mapped_column(String(200))
    issuer_region_code: Mapped[str] = mapped_column(String(6))
    filed_with_province: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(8), default="valid")  # valid | revoked
    replaces: Mapped[str | None] = mapped_column(String(18))
    verification_code: Mapped[str | None] = mapped_column(String(32))
    document_path: Mapped[str | None] = mapped_column(String(255))
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    key_id: Mapped[str | None] = mapped_column(String(64))
    issuance_run_id: Mapped[int | None] = mapped_column(ForeignKey("issuance_runs.id"))
    merkle_proof: Mapped[list[Any] | None]
    revoked_at: Mapped[dt.datetime | None]
    revoke_reason: Mapped[str | None] = mapped_column(Text)


class CertificateLookup(Base):
    """What a 补办/换发 or 历史登记 found when it looked its number up (our registry, then
    the province by number): one row per application revision. `record` is the
    CertificateRecord found, as the province answered it (or as our registry holds it)."""

    __tablename__ = "certificate_lookups"
    __table_args__ = (UniqueConstraint("application_id", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    revision: Mapped[int]
    certificate_no: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # found | not_found | unavailable
    source: Mapped[str | None] = mapped_column(String(16))  # registry | province
    record: Mapped[dict[str, Any] | None]
    checked_at: Mapped[dt.datetime]
