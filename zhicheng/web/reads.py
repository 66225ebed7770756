"""The public verification's reads: a few SELECTs, compiled once by SQLAlchemy for the
database's dialect and run on one driver connection a process.

Every QR scan runs one of them (two for a certificate that is no longer valid). Through
SQLAlchemy's execution (a pool checkout, events, a result object) each cost three times
what the driver itself takes, most of a verification on PostgreSQL (bench/web.py,
docs/verification.md). The SQL, the parameters and the result types stay SQLAlchemy's:
only the per-request machinery is left out.

On PostgreSQL the look-ups by one key that the event loop starts in one turn go to the
database as one statement (`first_by`): a round trip, its system calls and wake-ups, and
the server's work on a statement, shared by every request that arrived together, where
they were most of a verification's cost. Each is still read when it is asked for: a
look-up waits for the next statement to start, never for an earlier answer.
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

    async def run_async(self, connection: Any, params: dict[str, Any]) -> list[Any]:
        """All its rows, on a psycopg AsyncConnection (a statement psycopg prepares on
        the connection once it has run a few times)."""
        cursor = connection.cursor()
        try:
            await cursor.execute(self.sql, self._compiled.construct_params(params))
            found = await cursor.fetchall()
        finally:
            await cursor.close()
        return [self._row(row) for row in found]

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
        self._gathering: dict[Select, dict[Any, list[asyncio.Future]]] = {}
        self._in_flight: dict[Select, asyncio.Lock] = {}
        self._flushes: set[asyncio.Task] = set()

    def _statement(self, select: Select) -> Compiled:
        stmt = self._compiled.get(select)
        if stmt is None:
            stmt = self._compiled[select] = Compiled(select, self.engine)
        return stmt

    async def first(self, select: Select, params: dict[str, Any]) -> Any:
        """The first row of `select` (a statement built once, at import), or None."""
        stmt = self._statement(select)
        if self.engine.dialect.name == "postgresql":
            rows = await self._run_async(stmt, params)
            return rows[0] if rows else None
        return self._first_sync(stmt, params)

    async def first_by(self, select: Select, key: str, value: Any, *, many: Select, column: str) -> Any:
        """The row of `select` where its parameter `key` is `value`, or None. On
        PostgreSQL the look-ups run together as `many`: the same columns for a list of
        values (its parameter `key`), each row naming its value in `column` (unique: one
        row a value). One such statement is in flight at a time; the look-ups that start
        meanwhile (or in the same turn of the loop) go in the next. The busier the
        service, the more share a round trip."""
        if self.engine.dialect.name != "postgresql":
            return self._first_sync(self._statement(select), {key: value})
        self._pool()  # on this loop
        gathering = self._gathering.get(many)
        if gathering is None:  # the first of this turn: the statement starts on the next
            gathering = self._gathering[many] = {}
            flush = asyncio.get_running_loop().create_task(self._flush(many, key, column, gathering))
            self._flushes.add(flush)  # the loop keeps only a weak reference
            flush.add_done_callback(self._flushes.discard)
        waiter = asyncio.get_running_loop().create_future()
        gathering.setdefault(value, []).append(waiter)
        return await waiter

    async def _flush(self, many: Select, key: str, column: str,
                     gathering: dict[Any, list[asyncio.Future]]) -> None:
        limit, _ = self._pool()
        in_flight = self._in_flight.get(many) or self._in_flight.setdefault(many, asyncio.Lock())
        try:
            async with in_flight, limit:  # while the one before runs, more look-ups join this one
                if self._gathering.get(many) is gathering:
                    del self._gathering[many]  # closed: later look-ups start the next
                rows = await self._run_async(self._statement(many), {key: list(gathering)}, limited=False)
        except BaseException as exc:
            if self._gathering.get(many) is gathering:
                del self._gathering[many]
            for waiters in gathering.values():
                for waiter in waiters:
                    if waiter.done():
                        continue
                    if isinstance(exc, asyncio.CancelledError):
                        waiter.cancel()
                    else:
                        waiter.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        found = {getattr(row, column): row for row in rows}
        for value, waiters in gathering.items():
            row = found.get(value)
            for waiter in waiters:
                if not waiter.done():  # not a request that went away meanwhile
                    waiter.set_result(row)

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

    async def _run_async(self, stmt: Compiled, params: dict[str, Any], *, limited: bool = True) -> list[Any]:
        if limited:
            limit, _ = self._pool()
            async with limit:  # at most `connections` reads at once; the others wait here
                return await self._run_async(stmt, params, limited=False)
        import psycopg
        from psycopg.pq import TransactionStatus
        _, idle = self._pool()
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
            self._gathering, self._in_flight = {}, {}
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
