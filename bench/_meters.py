"""Counters the cycle bench reads at each stage's start and end (zhicheng.demo.driver
Timings keeps their change over the stage): CPU of the demo's living descendants by
kind, and seconds spent inside database statements, the connectors' HTTP calls and the
Prefect client's API calls of the demo's process.

Installed in the bench's child process only; nothing here changes what the code does.
The seconds inside calls are summed over threads, so they can overlap each other and
the process's own CPU (on SQLite a statement's time is mostly this process's CPU).
"""
from __future__ import annotations

import os
import threading
import time
from collections import defaultdict
from typing import Any

import psutil   # comes with pymupdf and distributed; bench only

_lock = threading.Lock()
_totals: dict[str, float] = defaultdict(float)
DML = ("INSERT", "UPDATE", "DELETE")


def _add(key: str, value: float) -> None:
    with _lock:
        _totals[key] += value


def read() -> dict[str, float]:
    """The cumulative counters now."""
    with _lock:
        out = dict(_totals)
    return out | _descendants_cpu() | _worker_runs.read()


def _descendants_cpu() -> dict[str, float]:
    """CPU seconds of the living descendants, by kind: the stand-ins' process, the
    temporary Prefect server, and the rest (worker pools, inspectors: the flows' own
    work). A child that exits moves into RUSAGE_CHILDREN (the driver's
    `exited_children_cpu_seconds`): its own and its reaped children's times are counted
    here while it lives, so the sum of both figures only grows."""
    out = {"standins_cpu_seconds": 0.0, "prefect_server_cpu_seconds": 0.0, "workers_cpu_seconds": 0.0}
    for p in psutil.Process().children(recursive=True):
        try:
            with p.oneshot():
                t, cmd = p.cpu_times(), " ".join(p.cmdline())
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        kind = ("standins" if "stand-ins" in cmd else
                "prefect_server" if "prefect" in cmd and ("server" in cmd or "uvicorn" in cmd) else "workers")
        out[f"{kind}_cpu_seconds"] += t.user + t.system + t.children_user + t.children_system
    if server := os.environ.get("BENCH_PREFECT_SERVER_PID"):   # the bench's own, not a descendant
        try:
            t = psutil.Process(int(server)).cpu_times()
            out["prefect_server_cpu_seconds"] += t.user + t.system + t.children_user + t.children_system
        except psutil.NoSuchProcess:
            pass
    return out


class _WorkerRuns:
    """Of the flow runs a process worker started (the `workers` runner), the seconds of
    each phase from the server's own state history, summed: `queued` (Scheduled until a
    worker's poll takes it: Pending), `startup` (Pending until the engine in the new
    process sets Running: the process, its imports, loading the flow), `running`
    (Running to the end). Each run is read once, when it is final; a subflow run in its
    parent's process has no process of its own and is not counted."""

    def __init__(self) -> None:
        self.seen: set[Any] = set()
        self.totals = {f"worker_{k}": 0.0 for k in ("flow_runs", "queued_seconds", "startup_seconds",
                                                    "running_seconds")}

    def read(self) -> dict[str, float]:
        if not os.environ.get("BENCH_PREFECT_SERVER_PID"):   # only the `workers` runner's server
            return {}
        from prefect.client.orchestration import get_client
        with get_client(sync_client=True) as client:
            for run in _all_flow_runs(client):
                if run.id in self.seen or run.infrastructure_pid is None or not run.state or \
                        not run.state.is_final():
                    continue
                self.seen.add(run.id)
                states = [(s.type.value, s.timestamp) for s in client.read_flow_run_states(run.id)]
                for key, seconds in phases(states).items():
                    self.totals[f"worker_{key}_seconds"] += seconds
                self.totals["worker_flow_runs"] += 1
        return dict(self.totals)


def _all_flow_runs(client: Any) -> list[Any]:
    out, offset = [], 0
    while page := client.read_flow_runs(limit=200, offset=offset):
        out += page
        offset += len(page)
    return out


def phases(states: list[tuple[str, Any]]) -> dict[str, float]:
    """A flow run's seconds queued, starting up and running, from its (state type,
    timestamp) history; a phase whose bounding states are missing counts 0."""
    from prefect.client.schemas.objects import TERMINAL_STATES
    final_kinds = {t.value for t in TERMINAL_STATES}
    first = {}
    for kind, at in sorted(states, key=lambda s: s[1]):
        first.setdefault(kind, at)
    final = max((at for kind, at in states if kind in final_kinds), default=None)

    def between(a: Any, b: Any) -> float:
        return max(0.0, (b - a).total_seconds()) if a is not None and b is not None else 0.0
    return {"queued": between(first.get("SCHEDULED"), first.get("PENDING")),
            "startup": between(first.get("PENDING"), first.get("RUNNING")),
            "running": between(first.get("RUNNING"), final)}


_worker_runs = _WorkerRuns()


def install() -> None:
    """Time database statements (every engine of the process), the connectors' calls
    and the Prefect client's requests."""
    _time_statements()
    _time_connector_calls()
    _time_prefect_calls()


def _time_statements() -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "before_cursor_execute")
    def _before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    @event.listens_for(Engine, "after_cursor_execute")
    def _after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        started = conn.info["bench_started"].pop()
        _add("db_seconds", time.perf_counter() - started)
        _add("db_statements", 1)
        if statement.lstrip()[:6].upper() in DML:
            _add("db_rows_written", _rows(cursor, statement, parameters, executemany))

    @event.listens_for(Engine, "handle_error")
    def _failed(context: Any) -> None:
        stack = context.connection.info.get("bench_started") if context.connection is not None else None
        if stack:
            _add("db_seconds", time.perf_counter() - stack.pop())


def _rows(cursor: Any, statement: str, parameters: Any, executemany: bool) -> int:
    """Rows a DML statement wrote: its row count, or, where the driver gives none (an
    INSERT ... RETURNING on SQLite), its parameter sets or its VALUES groups."""
    if cursor.rowcount is not None and cursor.rowcount >= 0:
        return cursor.rowcount
    if executemany:
        return len(parameters)
    return statement.count("), (") + 1


def _time_connector_calls() -> None:
    from zhicheng.connectors.http import SignedClient
    once = SignedClient._once

    def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return once(self, *args, **kwargs)
        finally:
            _add(f"http_{self.system}_seconds", time.perf_counter() - started)
    SignedClient._once = timed


def _time_prefect_calls() -> None:
    import httpx
    send, asend = httpx.Client.send, httpx.AsyncClient.send

    def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return send(self, *args, **kwargs)
        finally:
            _add("prefect_api_seconds", time.perf_counter() - started)

    async def atimed(self: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await asend(self, *args, **kwargs)
        finally:
            _add("prefect_api_seconds", time.perf_counter() - started)
    httpx.Client.send, httpx.AsyncClient.send = timed, atimed
