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
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from support import PG_URL, require_postgres, runtime_url
from zhicheng.clock import FixedClock
from zhicheng.db.engine import make_engine
from zhicheng.schema import Base

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


@pytest.fixture
def pg_runtime_role(pg_schema) -> Iterator[str]:
    """A PostgreSQL login role with nothing granted, as docs/audit-trail.md creates the
    runtime role; roles are cluster-wide, so its name is unique. Dropped afterwards, with
    whatever was granted to it."""
    role = f"zhicheng_rt_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
    try:
        yield role
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP OWNED BY "{role}"'))
            conn.execute(text(f'DROP ROLE "{role}"'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request, tmp_path) -> Iterator[Engine]:
    """An engine on an empty database, once per backend. A test may ask (indirectly) for
    "postgresql-runtime": the schema migrated by the owner, and an engine connected as
    the runtime role (nothing is empty then: create_all finds every table)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
    elif request.param == "postgresql":
        url, schema = request.getfixturevalue("pg_schema")
        engine = make_engine(url, schema=schema)
    else:
        engine = _migrated_for_runtime_role(request, tmp_path)
    yield engine
    engine.dispose()


def _migrated_for_runtime_role(request, tmp_path) -> Engine:
    from zhicheng.bootstrap import build_app
    from zhicheng.settings import Settings
    from zhicheng.workspace import upgrade_database
    url, schema = request.getfixturevalue("pg_schema")
    role = request.getfixturevalue("pg_runtime_role")
    settings = Settings(home=tmp_path / "owner-home", database_url=runtime_url(role),
                        database_owner_url=url, database_schema=schema)
    upgrading = make_engine(runtime_url(role), schema=schema)
    upgrade_database(build_app(settings=settings, engine=upgrading))
    upgrading.dispose()  # it met the schema before its grants: a fresh engine sees it as its own
    return make_engine(runtime_url(role), schema=schema)


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
    from zhicheng.reference import sync_reference_data
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
        sync_reference_data(session=session, config=app.config)
    return app


@pytest.fixture
def chunk_sizes(app, monkeypatch):
    """Set policy.yaml chunk sizes for one test, e.g. `chunk_sizes(validation=2)`: in the
    app's config and in the config every task, flow and command of the process reads
    (config is frozen: a changed copy stands in for it until the test ends)."""
    import dataclasses

    from zhicheng import config as config_module

    def set_sizes(**sizes: int) -> None:
        policy = app.config.policy
        changed = dataclasses.replace(app.config, policy=policy.model_copy(
            update={"chunks": policy.chunks.model_copy(update=sizes)}))
        monkeypatch.setattr(config_module, "_cached", lambda directory: changed)
        app.config = changed
    return set_sizes


@pytest.fixture(autouse=True)
def _close_task_apps() -> Iterator[None]:
    """Tasks, flows and commands keep one App per process and database
    (zhicheng.bootstrap.app_at); a test's database ends with the test, so its
    connections are closed then, not kept by the worker for the rest of the run
    (PostgreSQL refuses clients past its limit)."""
    yield
    bootstrap = sys.modules.get("zhicheng.bootstrap")
    if bootstrap is not None:
        bootstrap.close_apps()


@pytest.fixture(scope="session")
def prefect_harness():
    """A throw-away Prefect API for tests that run flows (one per xdist worker)."""
    from prefect.testing.utilities import prefect_test_harness
    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def no_prefect_api():
    """No Prefect API, and no temporary server allowed either (whatever wants one fails):
    how the command line runs where PREFECT_API_URL is not set."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED, temporary_settings
    with temporary_settings(updates={PREFECT_API_URL: None, PREFECT_SERVER_EPHEMERAL_ENABLED: False}):
        yield
