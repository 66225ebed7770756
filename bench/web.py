"""Verification throughput of `zhicheng web` (issue 23), on SQLite and PostgreSQL.

The service runs as `zhicheng web` runs it (zhicheng.web.server: uvicorn on httptools
and uvloop, BENCH_WEB_WORKERS worker processes, default 1 as the command's, its access
log written to a file) in a child process, on a registry of BENCH_WEB_CERTIFICATES
certificates (default 5,000). The client, in this process, keeps BENCH_WEB_CLIENTS
keep-alive connections (default 8) busy with right number-and-code look-ups of random
certificates on the JSON API (`/api/v1/verifications`) and on the page
(`/verify?no=&code=`, the QR code's address), BENCH_WEB_REQUESTS each (default 3,000).
Measured in the same run, the same way and with the same server settings: `bare`, a
Starlette endpoint that answers a fixed JSON body, the ceiling of the framework and the
client on this machine. All share its 2 cores with the client. The three kinds take
turns in 5 rounds, so that other work on the machine weighs on each alike. Reported:
verifications a second (the median round), p50 and p99 latency over all rounds,
`ratio_to_bare`, and the server processes' CPU a request (`server_cpu_us`, from
/proc), whose ratio to bare's (`cpu_ratio_to_bare`) does not move with the machine's
load (the database server's own CPU is not in it).
Targets: at least 500 a second, p99 under 50 ms, at least half the bare endpoint's rate.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

CERTS = int(os.environ.get("BENCH_WEB_CERTIFICATES", "5000"))
CLIENTS = int(os.environ.get("BENCH_WEB_CLIENTS", "8"))
REQUESTS = int(os.environ.get("BENCH_WEB_REQUESTS", "3000"))
ROUNDS = 5
PG_URL = os.environ.get("ZHICHENG_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", "1"))
SERVE = """
import sys
from zhicheng.web import server
app = "bench.web:bare_app" if sys.argv[1] == "bare" else server.APP
server.run(port=int(sys.argv[2]), workers=int(sys.argv[3]), app=app)
"""
BARE_BODY = {"outcome": "valid", "valid": True, "certificate_no": "321200202630000011", "status": "valid"}


def bare_app():
    """The baseline: a Starlette endpoint answering a fixed JSON body, served by the same
    zhicheng.web.server settings (workers, HTTP parser, event loop) as the service."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def bare(request):
        return JSONResponse(BARE_BODY)
    return Starlette(routes=[Route("/bare", bare)])


def _registry(env: dict[str, str]) -> list[tuple[str, str]]:
    from sqlalchemy import insert

    from zhicheng.bootstrap import build_app
    from zhicheng.db.engine import unit_of_work
    from zhicheng.demo.delivery_samples import certificate_row
    from zhicheng.domain.certificate_numbers import make_number, verification_code
    from zhicheng.issuance.models import Certificate
    from zhicheng.settings import Settings
    from zhicheng.workspace import upgrade_database
    settings = Settings(home=Path(env["ZHICHENG_HOME"]), database_url=env["ZHICHENG_DATABASE_URL"],
                        database_schema=env.get("ZHICHENG_DATABASE_SCHEMA"))
    app = build_app(settings=settings)
    upgrade_database(app)
    rows = []
    for i in range(CERTS):
        row = certificate_row(i)
        row["verification_code"] = verification_code(hashlib.sha256(row["certificate_no"].encode()).digest())
        rows.append(row)
    with unit_of_work(app.sessions) as s:
        for i in range(0, len(rows), 1000):
            s.execute(insert(Certificate), rows[i:i + 1000])
    app.engine.dispose()
    assert make_number  # numbers as issuance makes them (certificate_row)
    return [(r["certificate_no"], r["verification_code"]) for r in rows]


def _serve(kind: str, env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    """The server in a process of its own, writing its log (one line a request, as
    `zhicheng web` does) to a file beside the database."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(Path(env["ZHICHENG_HOME"]) / f"{kind}.log", "ab")
    with log:
        proc = subprocess.Popen([sys.executable, "-c", SERVE, kind, str(port), str(WORKERS)], env=env,
                                stdout=log, stderr=log, cwd=Path(__file__).resolve().parent.parent)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the {kind} server did not start") from None
            time.sleep(0.05)


def _load(port: int, paths: list[str]) -> tuple[list[float], float]:
    """CLIENTS keep-alive connections share `paths`; every answer must be 200.
    Returns (latencies, wall seconds)."""
    latencies: list[float] = []
    lock = threading.Lock()
    queue = iter(paths)

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while True:
            with lock:
                path = next(queue, None)
            if path is None:
                break
            t = time.perf_counter()
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            mine.append(time.perf_counter() - t)
            assert resp.status == 200, (path, resp.status)
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(CLIENTS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, time.perf_counter() - started


def _cpu_seconds(pid: int) -> float:
    """User and system CPU of `pid` and its child processes (uvicorn's workers)."""
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:  # not Linux, or the process is gone
        return 0.0
    return total + sum(_cpu_seconds(int(c)) for c in children)


def _figures(latencies: list[float], rates: list[float], cpu: float) -> dict[str, float]:
    latencies = sorted(latencies)
    return {"requests": len(latencies), "per_second": round(statistics.median(rates), 1),
            "server_cpu_us": round(cpu / len(latencies) * 1e6),
            "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
            "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2)}


def _measure(env: dict[str, str], kinds: dict[str, list[str]]) -> dict[str, dict[str, float]]:
    """Each kind of request in ROUNDS rounds, the kinds taking turns, so that whatever
    else the machine does weighs on all of them alike; the median round's rate."""
    servers = {"bare": _serve("bare", env), "web": _serve("web", env)}
    try:
        port = {k: servers["bare" if k == "bare" else "web"][1] for k in kinds}
        for k, paths in kinds.items():  # warm-up: connections, caches, SQLite's page cache
            _load(port[k], paths[: max(200, len(paths) // 10)])
        latencies: dict[str, list[float]] = {k: [] for k in kinds}
        rates: dict[str, list[float]] = {k: [] for k in kinds}
        cpu = dict.fromkeys(kinds, 0.0)
        for r in range(ROUNDS):
            for k, paths in kinds.items():
                part = paths[r::ROUNDS]
                pid = servers["bare" if k == "bare" else "web"][0].pid
                before = _cpu_seconds(pid)
                got, seconds = _load(port[k], part)
                cpu[k] += _cpu_seconds(pid) - before
                latencies[k] += got
                rates[k].append(len(got) / seconds)
        return {k: _figures(latencies[k], rates[k], cpu[k]) for k in kinds}
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(10)


def _backend(name: str, base_env: dict[str, str], home: Path) -> dict:
    env = dict(base_env, ZHICHENG_HOME=str(home))
    schema = None
    if name == "sqlite":
        env["ZHICHENG_DATABASE_URL"] = f"sqlite:///{home / 'web.db'}"
    else:
        from sqlalchemy import create_engine, text
        schema = f"bench_verify_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        except Exception as exc:  # no PostgreSQL here: say so, measure SQLite only
            return {"skipped": f"PostgreSQL not reachable at {PG_URL}: {type(exc).__name__}"}
        env.update(ZHICHENG_DATABASE_URL=PG_URL, ZHICHENG_DATABASE_SCHEMA=schema)
    try:
        pairs = _registry(env)
        rng = random.Random(7)
        picks = [rng.choice(pairs) for _ in range(REQUESTS)]
        api = [f"/api/v1/verifications?certificate_no={n}&code={c}" for n, c in picks]
        page = [f"/verify?no={n}&code={c}" for n, c in picks]
        out = _measure(env, {"bare": ["/bare"] * REQUESTS, "api": api, "page": page})
        for k in ("api", "page"):
            out[k]["ratio_to_bare"] = round(out[k]["per_second"] / out["bare"]["per_second"], 2)
            if out[k]["server_cpu_us"]:  # what the rate ratio would be were the server's CPU the limit
                out[k]["cpu_ratio_to_bare"] = round(out["bare"]["server_cpu_us"] / out[k]["server_cpu_us"], 2)
        return out
    finally:
        if schema:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def main() -> dict:
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("ZHICHENG_")}
    base_env |= {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    figures: dict = {"certificates": CERTS, "clients": CLIENTS, "requests_each": REQUESTS,
                     "workers": WORKERS, "cores": os.cpu_count(), "load_average": os.getloadavg(),
                     "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        for name in ("sqlite", "postgresql"):
            home = Path(tmp) / name
            home.mkdir()
            figures[name] = _backend(name, base_env, home)
    return figures


if __name__ == "__main__":
    print(json.dumps(main(), ensure_ascii=False, indent=2))
