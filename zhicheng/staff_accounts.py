"""Staff accounts of the title offices for `zhicheng web`: argon2id password hashes
(argon2-cffi, its defaults: RFC 9106's second recommended set), one region each."""
from __future__ import annotations

import datetime as dt
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from zhicheng.db.models import StaffAccount
from zhicheng.domain.regions import RegionTable

MIN_PASSWORD = 12


class AccountRefused(ValueError):
    """An account that cannot be made as asked (the message says why)."""


@lru_cache(maxsize=1)
def hasher() -> PasswordHasher:
    return PasswordHasher()


@lru_cache(maxsize=1)
def _decoy() -> str:
    """A hash to check a password against when no account has that name, so that an
    unknown name costs as long as a wrong password (names cannot be told by timing)."""
    return hasher().hash("no such account")


def add_account(*, session: Session, username: str, password: str, office: str, region_code: str,
                regions: RegionTable, now: dt.datetime) -> StaffAccount:
    username = username.strip()
    if not username or len(username) > 64 or not username.isprintable() or " " in username:
        raise AccountRefused("the user name must be 1 to 64 characters without spaces")
    if not regions.is_known(region_code):
        raise AccountRefused(f"region {region_code} is not in config/regions.yaml")
    if not office.strip():
        raise AccountRefused("name the office (e.g. 泰州市职称办)")
    _check_password(password)
    if session.scalar(select(StaffAccount.id).where(StaffAccount.username == username)) is not None:
        raise AccountRefused(f"an account named {username} exists already")
    account = StaffAccount(username=username, password_hash=hasher().hash(password), office=office.strip(),
                           region_code=region_code, active=True, created_at=now, password_changed_at=now)
    session.add(account)
    session.flush()
    return account


def set_password(*, session: Session, username: str, password: str, now: dt.datetime) -> StaffAccount:
    account = _named(session=session, username=username)
    _check_password(password)
    account.password_hash = hasher().hash(password)
    account.password_changed_at = now
    return account


def set_active(*, session: Session, username: str, active: bool) -> StaffAccount:
    account = _named(session=session, username=username)
    account.active = active
    return account


def authenticate(*, session: Session, username: str, password: str) -> StaffAccount | None:
    """The active account with this name and password, else None (the same for a wrong
    name, a wrong password and a disabled account). A hash made with weaker parameters
    than today's is replaced on the way."""
    account = session.scalar(select(StaffAccount).where(StaffAccount.username == username.strip()))
    try:
        hasher().verify(account.password_hash if account else _decoy(), password)
    except (VerificationError, InvalidHashError):
        return None
    if account is None or not account.active:
        return None
    if hasher().check_needs_rehash(account.password_hash):
        account.password_hash = hasher().hash(password)
    return account


def _named(*, session: Session, username: str) -> StaffAccount:
    account = session.scalar(select(StaffAccount).where(StaffAccount.username == username.strip()))
    if account is None:
        raise AccountRefused(f"no account named {username}")
    return account


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountRefused(f"a password needs at least {MIN_PASSWORD} characters")
