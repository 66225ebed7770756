"""A real Prefect server on PostgreSQL and process workers, for the scale-out tests.

Nothing here is a stand-in for Prefect: `prefect server start` and `prefect worker
start` run as child processes exactly as docs/scale-out.md tells operators to.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from support import PG_URL, require_postgres

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, *, timeout: float, what: str) -> None:
    """Poll `check` until it is true; a deadline, not a sleep for time to pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise TimeoutError(f"{what} did not happen within {timeout:.0f}s")


def stop_processes(procs: Sequence[subprocess.Popen]) -> None:
    """Terminate each process, in the order given, then wait for each (kill after 20 s)."""
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def running_prefect_server(port: int, env: dict[str, str], log: Path, *,
                           timeout: float) -> Iterator[subprocess.Popen]:
    """`prefect server start` on 127.0.0.1:`port` as operators run it (its output in
    `log`), once it answers /api/health within `timeout` s; stopped on leaving. A server
    that exits first fails the wait at once, with the end of its log."""
    out = log.open("wb")
    proc = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=out, stderr=subprocess.STDOUT)

    def healthy() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"prefect server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            return requests.get(f"http://127.0.0.1:{port}/api/health", timeout=2).ok
        except requests.RequestException:
            return False
    try:
        wait_until(healthy, timeout=timeout, what="the Prefect server answering /api/health")
        yield proc
    finally:
        stop_processes([proc])
        out.close()


class PrefectServer:
    def __init__(self, url: str, env: dict[str, str], logs: Path) -> None:
        self.url, self.env, self.logs = url, env, logs
        self.children: list[subprocess.Popen] = []

    @property
    def api(self) -> str:
        return f"{self.url}/api"

    def start_worker(self, pool: str, name: str, extra_env: dict[str, str]) -> subprocess.Popen:
        env = {**self.env, **extra_env, "PREFECT_API_URL": self.api}
        log = (self.logs / f"worker-{name}.log").open("wb")
        proc = subprocess.Popen([str(BIN / "prefect"), "worker", "start", "--pool", pool,
                                 "--name", name, "--type", "process"],
                                env=env, stdout=log, stderr=subprocess.STDOUT)
        self.children.append(proc)
        return proc


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory) -> Iterator[PrefectServer]:
    require_postgres()
    db = f"prefect_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db}"'))
    host_part = PG_URL.split("://", 1)[1].rsplit("/", 1)[0]
    logs = tmp_path_factory.mktemp("prefect-server")
    port = free_port()
    env = {**os.environ,
           "PREFECT_HOME": str(logs / "home"),
           "PREFECT_API_DATABASE_CONNECTION_URL": f"postgresql+asyncpg://{host_part}/{db}",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
           "PREFECT_UI_API_URL": f"http://127.0.0.1:{port}/api"}
    env.pop("PREFECT_API_URL", None)
    server = PrefectServer(f"http://127.0.0.1:{port}", env, logs)
    try:
        with running_prefect_server(port, env, logs / "server.log", timeout=120):
            try:
                yield server
            finally:
                stop_processes(server.children)   # the workers before their server
    finally:
        admin_conn = admin.connect()
        admin_conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin_conn.close()
        admin.dispose()
