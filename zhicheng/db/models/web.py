"""The verification and query service (zhicheng web): staff accounts, the audit of
their look-ups, and the nonces of the hall's signed requests."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from zhicheng.db.base import Base


class StaffAccount(Base):
    """A title office's member of staff: sees the certificates and applications of the
    office's region (domain.verification.region_prefix)."""

    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id, with its parameters
    office: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(String(6))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime]
    password_changed_at: Mapped[dt.datetime]


class StaffLookup(Base):
    """One look-up by a member of staff: what was asked and what was shown. Part of the
    audit trail (zhicheng.db.audit): written once, never changed."""

    __tablename__ = "staff_lookups"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("staff_accounts.id"), index=True)
    username: Mapped[str] = mapped_column(String(64))
    office: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(16))  # search | export | application | certificate
    criteria: Mapped[dict[str, Any]]
    results: Mapped[int]
    subjects: Mapped[list[Any]]  # certificate numbers or submission ids shown
    client: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(index=True)


class RequestNonce(Base):
    """A nonce of a signed request to us, kept 10 minutes (external-systems.md) so that
    every worker process refuses its reuse."""

    __tablename__ = "request_nonces"

    app_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[dt.datetime] = mapped_column(index=True)
