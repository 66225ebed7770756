"""Engines and sessions for SQLite (embedded default) and PostgreSQL (production)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

from zhicheng.private_files import private_sqlite_file


def make_engine(url: str, *, schema: str | None = None, echo: bool = False,
                pre_ping: bool = True) -> Engine:
    """An engine with the settings each backend needs to behave as the product expects.

    `schema` (PostgreSQL only) puts every table in that schema via search_path: tests
    use it to give each test its own schema. `pre_ping=False` saves a round trip a
    checkout on PostgreSQL, for a caller that retries a dropped connection itself
    (the web service's reads).
    """
    # hide_parameters: an error or log line shows the SQL, never the values bound to it
    # (ID numbers and phone numbers would otherwise reach logs and Prefect; docs/privacy.md)
    kwargs: dict = {"echo": echo, "future": True, "hide_parameters": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30}
        private_sqlite_file(make_url(url).database)  # 0600, and so its -wal and -journal
    elif schema:
        kwargs["connect_args"] = {"options": f"-csearch_path={schema}"}
    if url.startswith("postgresql"):
        kwargs["pool_pre_ping"] = pre_ping
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # Foreign keys are off by default in SQLite; WAL lets readers work during a write.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back if it raises."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
