"""The public verification's reads: a few SELECTs, compiled once by SQLAlchemy for the
database's dialect and run on one driver connection a process.

Every QR scan runs one of them (two for a certificate that is no longer valid). Through
SQLAlchemy's execution (a pool checkout, events, a result object) each cost three times
what the driver itself takes, most of a verification on PostgreSQL (bench/web.py,
docs/verification.md). The SQL, the parameters and the result types stay SQLAlchemy's:
only the per-request machinery is left out.
"""
from __future__ import annotations

import asyncio
from collections import namedtuple
from typing import Any

from sqlalchemy import Connection, Engine, Select


class Compiled:
    """A SELECT compiled for `engine`'s dialect: `run` returns its first row, with the
    columns' result types applied (SQLite's dates arrive as text), or None."""

    def __init__(self, stmt: Select, engine: Engine) -> None:
        dialect = engine.dialect
        compiled = stmt.compile(dialect=dialect)
        self.sql = compiled.string
        self._compiled = compiled
        self._positional = compiled.positiontup  # qmark (SQLite): names in order; else None
        columns = list(stmt.selected_columns)
        self.row: Any = namedtuple("Row", [c.key for c in columns])  # type: ignore[misc]
        self._processors = [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]
        self._convert = any(self._processors)

    def run(self, dbapi_connection: Any, params: dict[str, Any]) -> Any:
        values = self._compiled.construct_params(params)  # the statement's own, e.g. LIMIT's
        args = [values[n] for n in self._positional] if self._positional else values
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(self.sql, args)
            found = cursor.fetchone()
        finally:
            cursor.close()
        if found is None:
            return None
        return self._row(found)

    async def run_async(self, connection: Any, params: dict[str, Any]) -> Any:
        """The same on a psycopg AsyncConnection."""
        cursor = connection.cursor()
        try:
            await cursor.execute(self.sql, self._compiled.construct_params(params))
            found = await cursor.fetchone()
        finally:
            await cursor.close()
        return None if found is None else self._row(found)

    def _row(self, found: Any) -> Any:
        if self._convert:
            found = [p(v) if p else v for p, v in zip(self._processors, found, strict=True)]
        return self.row._make(found)


class Reader:
    """How the process reads: on SQLite one connection, used on the event loop's thread
    (an indexed read takes tens of microseconds, less than a hop to a thread); on
    PostgreSQL a few asynchronous connections (psycopg's own), so that the loop serves
    other requests while one waits on the database. Both kept open (no pool checkout and
    return a request) and in autocommit (a single SELECT needs no transaction, and none
    stays open between requests). A dropped connection (a database restart) is replaced
    and the read tried once more: what pool_pre_ping does, without its round trip on
    every request."""

    def __init__(self, engine: Engine, *, schema: str | None = None, connections: int = 4) -> None:
        self.engine = engine
        self.schema = schema
        self.connections = connections
        self._conn: Connection | None = None
        self._compiled: dict[Select, Compiled] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._limit = asyncio.Semaphore(connections)
        self._idle: list[Any] = []
        self._all: set[Any] = set()

    async def first(self, select: Select, params: dict[str, Any]) -> Any:
        """The first row of `select` (a statement built once, at import), or None."""
        stmt = self._compiled.get(select)
        if stmt is None:
            stmt = self._compiled[select] = Compiled(select, self.engine)
        if self.engine.dialect.name == "postgresql":
            return await self._first_async(stmt, params)
        return self._first_sync(stmt, params)

    def _first_sync(self, stmt: Compiled, params: dict[str, Any]) -> Any:
        dialect = self.engine.dialect
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            driver = self._conn.connection.dbapi_connection
            try:
                return stmt.run(driver, params)
            except dialect.loaded_dbapi.Error as exc:
                dropped = dialect.is_disconnect(exc, driver, None)
                self._close_sync()
                if attempt == 2 or not dropped:
                    raise
        raise AssertionError("unreachable")

    async def _first_async(self, stmt: Compiled, params: dict[str, Any]) -> Any:
        import psycopg
        from psycopg.pq import TransactionStatus
        limit, idle = self._pool()
        async with limit:  # at most `connections` reads at once; the others wait here
            for attempt in (1, 2):
                conn = idle.pop() if idle else await self._connect()
                try:
                    found = await stmt.run_async(conn, params)
                except BaseException as exc:
                    if conn.broken or conn.info.transaction_status != TransactionStatus.IDLE:
                        self._all.discard(conn)  # dropped, or cancelled mid-statement
                        conn.pgconn.finish()
                    else:
                        idle.append(conn)
                    if attempt == 1 and isinstance(exc, psycopg.OperationalError) and conn.broken:
                        continue
                    raise
                idle.append(conn)
                return found
        raise AssertionError("unreachable")

    def _pool(self) -> tuple[asyncio.Semaphore, list[Any]]:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # connections belong to the loop that made them
            self._loop, self._limit, self._idle, self._all = loop, asyncio.Semaphore(self.connections), [], set()
        return self._limit, self._idle

    async def _connect(self) -> Any:
        import psycopg
        _, kwargs = self.engine.dialect.create_connect_args(self.engine.url)
        if self.schema:
            kwargs["options"] = f"-csearch_path={self.schema}"
        conn = await psycopg.AsyncConnection.connect(autocommit=True, **kwargs)
        self._all.add(conn)
        return conn

    async def close(self) -> None:
        self._close_sync()
        conns, self._all, self._idle, self._loop = self._all, set(), [], None
        for conn in conns:
            await conn.close()

    def _close_sync(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.invalidate()  # discarded, not pooled: it may have failed mid-statement
            conn.close()
