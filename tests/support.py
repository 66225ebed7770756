"""Helpers shared by the conftest files: where PostgreSQL is, and whether it must be."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import pytest
from sqlalchemy import create_engine, make_url, text

PG_URL = os.environ.get("ZHICHENG_TEST_POSTGRES_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@lru_cache(maxsize=1)
def postgres_problem() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        eng = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with eng.connect() as conn:
            conn.execute(text("select 1"))
        eng.dispose()
        return None
    except Exception as exc:  # any failure to reach it is a reason to skip
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"


def runtime_url(role: str) -> str:
    """PG_URL as another role (the test cluster trusts local connections)."""
    return make_url(PG_URL).set(username=role).render_as_string(hide_password=False)


def require_postgres() -> None:
    problem = postgres_problem()
    if problem is None:
        return
    msg = f"PostgreSQL not reachable at {PG_URL} ({problem})"
    if os.environ.get("ZHICHENG_REQUIRE_POSTGRES") == "1":
        pytest.fail(msg + "; ZHICHENG_REQUIRE_POSTGRES=1 says it must be there")
    pytest.skip(msg + "; set ZHICHENG_TEST_POSTGRES_URL to run these tests")


@contextmanager
def audit_rules_suspended(session) -> Iterator[None]:
    """Write what the application never could (defects for the quality suites, a clean
    slate in the middle of a test), as the tables' owner does: the audit triggers are
    off inside this block only, in the session's own transaction."""
    from zhicheng.db.audit import AUDIT_TABLES
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        for table in AUDIT_TABLES:
            conn.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        yield
        session.flush()
        for table in AUDIT_TABLES:
            conn.exec_driver_sql(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        return
    names = ", ".join(f"'{t}'" for t in AUDIT_TABLES)
    triggers = conn.exec_driver_sql(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({names})").all()
    for name, _ in triggers:
        conn.exec_driver_sql(f"DROP TRIGGER {name}")
    yield
    session.flush()
    for _, sql in triggers:
        conn.exec_driver_sql(sql)
