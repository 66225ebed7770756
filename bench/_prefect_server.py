"""A Prefect server on a fresh PostgreSQL database, as docs/scale-out.md tells
operators to run it (`prefect server start`), for the cycle bench's `workers` runner.
The database is dropped when the server stops."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

START_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class Server:
    api: str
    pid: int


@contextmanager
def prefect_server(pg_url: str, work: Path) -> Iterator[Server]:
    """A Prefect server on 127.0.0.1 whose database is a new one on `pg_url`'s host."""
    db = f"prefect_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db}"'))
    host = pg_url.split("://", 1)[1].rsplit("/", 1)[0]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    work.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API_URL", "ZHICHENG_"))}
    env.update(PREFECT_HOME=str(work / "home"), PREFECT_API_DATABASE_CONNECTION_URL=f"postgresql+asyncpg://{host}/{db}",
               PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1",
               PREFECT_UI_API_URL=f"http://127.0.0.1:{port}/api")
    log = (work / "server.log").open("wb")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "prefect"), "server", "start", "--host", "127.0.0.1",
                             "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(proc, port, work / "server.log")
        yield Server(f"http://127.0.0.1:{port}/api", proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()


def _wait_healthy(proc: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"prefect server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/health", timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"the Prefect server did not answer within {START_TIMEOUT_SECONDS} s")
