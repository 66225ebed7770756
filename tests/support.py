"""Helpers shared by the conftest files: where PostgreSQL is, and whether it must be."""
from __future__ import annotations

import os
from functools import lru_cache

import pytest
from sqlalchemy import create_engine, text

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


def require_postgres() -> None:
    problem = postgres_problem()
    if problem is None:
        return
    msg = f"PostgreSQL not reachable at {PG_URL} ({problem})"
    if os.environ.get("ZHICHENG_REQUIRE_POSTGRES") == "1":
        pytest.fail(msg + "; ZHICHENG_REQUIRE_POSTGRES=1 says it must be there")
    pytest.skip(msg + "; set ZHICHENG_TEST_POSTGRES_URL to run these tests")
