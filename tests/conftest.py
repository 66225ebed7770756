"""Fixtures shared by every tier of tests: databases on both engines, an app with a
controlled clock, a workspace.

Database tests run against SQLite always and against PostgreSQL at
ZHICHENG_TEST_POSTGRES_URL (default 127.0.0.1:5432/test). Where PostgreSQL is not
reachable they are skipped with the reason, unless ZHICHENG_REQUIRE_POSTGRES=1
(as in .ci/run), where that is a failure. Each test gets its own SQLite file or its
own PostgreSQL schema, so tests can run in parallel.
"""
from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from support import PG_URL, require_postgres
from zhicheng.clock import FixedClock
from zhicheng.db.engine import make_engine
from zhicheng.db.models import Base

pytest_plugins = ["zhicheng.standins.pytest_plugin"]

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")


@pytest.fixture
def pg_schema() -> Iterator[tuple[str, str]]:
    """A fresh PostgreSQL schema of its own: (url, schema); dropped afterwards."""
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield PG_URL, schema
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request, tmp_path) -> Iterator[Engine]:
    """An engine on an empty database, once per backend."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
        yield engine
        engine.dispose()
    else:
        schema_cm = request.getfixturevalue("pg_schema")
        url, schema = schema_cm
        engine = make_engine(url, schema=schema)
        yield engine
        engine.dispose()


@pytest.fixture
def engine(empty_engine: Engine) -> Engine:
    """An engine with the whole schema, once per backend."""
    Base.metadata.create_all(empty_engine)
    return empty_engine


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(dt.datetime(2026, 6, 1, 9, 0))


@pytest.fixture
def app(engine: Engine, clock: FixedClock, tmp_path, monkeypatch):
    """The application wired to a test database, a test workspace and a controlled clock."""
    from zhicheng.bootstrap import build_app
    from zhicheng.settings import Settings
    monkeypatch.setenv("ZHICHENG_HOME", str(tmp_path / "home"))
    from zhicheng.db.engine import unit_of_work
    from zhicheng.services.reference import sync_reference_data
    home = tmp_path / "home"
    schema = engine.dialect.default_schema_name if engine.dialect.name == "postgresql" else None
    env = {"ZHICHENG_HOME": str(home), "ZHICHENG_DATABASE_URL": engine.url.render_as_string(False)}
    if schema and schema != "public":
        env["ZHICHENG_DATABASE_SCHEMA"] = schema
    for key, value in env.items():  # flows build their own App from the environment
        monkeypatch.setenv(key, value)
    settings = Settings(home=home, database_url=env["ZHICHENG_DATABASE_URL"],
                        database_schema=env.get("ZHICHENG_DATABASE_SCHEMA"))
    app = build_app(settings=settings, clock=clock, engine=engine)
    with unit_of_work(app.sessions) as session:
        sync_reference_data(session, app.config)
    return app


@pytest.fixture(scope="session")
def prefect_harness():
    """A throw-away Prefect API for tests that run flows (one per xdist worker)."""
    from prefect.testing.utilities import prefect_test_harness
    with prefect_test_harness(server_startup_timeout=120):
        yield
