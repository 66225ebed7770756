"""One runner at a time for a named job (e.g. the year-end run of one batch year).

PostgreSQL: a session-level advisory lock, released by the server when the holder's
connection ends, so a killed run never leaves a stale lock. Advisory locks belong to
the whole server, so the key names the database and schema too: two installations
sharing a server (or two test runs, each in its own schema) never block each other. SQLite: a row naming the
holder (host and pid); a row whose process is gone on this host is taken over.
"""
from __future__ import annotations

import hashlib
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

from sqlalchemy import Engine, delete, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhicheng.clock import local
from zhicheng.db.models.locks import RunLock


class AlreadyRunning(RuntimeError):
    pass


def _key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def exclusive(engine: Engine, name: str, *, now) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with _advisory(engine, name):
            yield
    else:
        with _row_lock(engine, name, now=now):
            yield


@contextmanager
def waiting(engine: Engine, name: str, *, now, wait_seconds: float | None,
            on_wait: Callable[[AlreadyRunning], None] | None = None,
            poll_seconds: float = 1.0) -> Iterator[None]:
    """`exclusive`, waiting for the holder up to `wait_seconds` (None: as long as it
    takes; 0: not at all) and raising AlreadyRunning after that; `on_wait` is told once,
    when the first try finds the job held (to say why the run waits)."""
    deadline = None if wait_seconds is None else time.monotonic() + wait_seconds
    told = False
    while True:
        with ExitStack() as held:
            try:
                held.enter_context(exclusive(engine, name, now=now))
            except AlreadyRunning as exc:
                if deadline is not None and time.monotonic() >= deadline:
                    raise
                if on_wait is not None and not told:
                    on_wait(exc)
                    told = True
            else:
                yield
                return
        time.sleep(poll_seconds)


@contextmanager
def _advisory(engine: Engine, name: str) -> Iterator[None]:
    with engine.connect() as conn:
        where = conn.execute(text("select current_database() || '.' || current_schema()")).scalar()
        key = _key(f"{where}:{name}")
        got = conn.execute(text("select pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        conn.commit()
        if not got:
            raise AlreadyRunning(f"{name} is already running (PostgreSQL advisory lock held)")
        try:
            yield
        finally:
            conn.execute(text("select pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(holder: str) -> bool:
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname():
        return True  # cannot tell for another machine: assume it is alive
    try:
        os.kill(int(pid), 0)
        return True
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        return True


@contextmanager
def _row_lock(engine: Engine, name: str, *, now) -> Iterator[None]:
    with Session(engine) as s:
        existing = s.get(RunLock, name)
        if existing is not None:
            if _alive(existing.holder):
                raise AlreadyRunning(f"{name} is already running (held by {existing.holder} "
                                     f"since {local(existing.acquired_at):%Y-%m-%d %H:%M})")
            s.delete(existing)
            s.flush()
        s.add(RunLock(name=name, holder=_holder(), acquired_at=now))
        try:
            s.commit()
        except IntegrityError:
            raise AlreadyRunning(f"{name} is already running") from None
    try:
        yield
    finally:
        with Session(engine) as s:
            s.execute(delete(RunLock).where(RunLock.name == name, RunLock.holder == _holder()))
            s.commit()
