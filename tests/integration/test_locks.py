"""Only one runner of a named job at a time, on both engines; a dead holder frees it."""
from __future__ import annotations

import datetime as dt
import os
import socket

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from zhicheng.db.engine import make_engine
from zhicheng.db.models.locks import RunLock
from zhicheng.locks import AlreadyRunning, exclusive
from zhicheng.schema import Base

NOW = dt.datetime(2026, 12, 28, 20, 0, tzinfo=dt.timezone.utc)


def test_second_runner_is_refused_while_the_first_runs(engine):
    with exclusive(engine, "year-end-2026", now=NOW):
        with pytest.raises(AlreadyRunning, match="year-end-2026 is already running"):
            with exclusive(engine, "year-end-2026", now=NOW):
                pass  # pragma: no cover - must not be reached


def test_other_names_and_later_runs_are_free(engine):
    with exclusive(engine, "year-end-2026", now=NOW):
        with exclusive(engine, "year-end-2027", now=NOW):
            pass
    with exclusive(engine, "year-end-2026", now=NOW):
        pass


def test_sqlite_lock_of_a_dead_process_is_taken_over(tmp_path):
    # PostgreSQL needs no such test: the server drops an advisory lock with its connection.
    engine = make_engine(f"sqlite:///{tmp_path / 'locks.db'}")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        s.add(RunLock(name="year-end-2026", holder=f"{socket.gethostname()}:999999999", acquired_at=NOW))
        s.commit()
    with exclusive(engine, "year-end-2026", now=NOW):
        with Session(engine) as s:
            assert s.get(RunLock, "year-end-2026").holder.endswith(f":{os.getpid()}")



def test_postgres_locks_of_other_schemas_do_not_collide(pg_schema):
    # Two installations (or two test runs) on one server, each in its own schema.
    url, schema = pg_schema
    other = f"{schema}_b"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{other}"'))
    first, second = make_engine(url, schema=schema), make_engine(url, schema=other)
    try:
        with exclusive(first, "year-end-2026", now=NOW):
            with exclusive(second, "year-end-2026", now=NOW):
                with pytest.raises(AlreadyRunning):
                    with exclusive(make_engine(url, schema=schema), "year-end-2026", now=NOW):
                        pass  # pragma: no cover - must not be reached
    finally:
        first.dispose()
        second.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{other}" CASCADE'))
        admin.dispose()
