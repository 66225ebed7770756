"""The whole cycle of a batch year (the demo's script: intake, 学信, validation with
returns and resubmissions, review spreadsheets, publicity with objections, the votes,
the year-end run), for several sizes on SQLite and on PostgreSQL.

Each (engine, size) runs `zhicheng.demo.driver.run_demo` in a fresh process of its
own, with its own workspace, stand-ins and temporary Prefect server, so its peak RSS
(ru_maxrss) is its own. PostgreSQL runs in a fresh schema that is dropped afterwards.
Figures: seconds per stage, for the cycle (the back office's stages: generating the
year and creating the database are the stand-in world's set-up, in total_seconds
only) and in total, applications per second of the cycle, peak RSS of the
process and of its children (validation workers, the Prefect server), and the
baseline of the run: each size's time divided by the smallest size's, next to the
ratio of their sizes (linear growth: the two agree, `linearity` near 1).
Issue 10's target: 10,000 applications in under 15 minutes on this 2-core machine.

学信 answers at the rate it grants this app id (config/connectors.yaml: 20 a second), so
education sync takes (requests / rate) however fast this machine is: at 10,000
applications that is over 15 minutes on its own. The bench therefore lifts the client's
limit (the stand-in sets none) to measure this machine, and reports next to it the
requests 学信 answered and the seconds they take at the granted rate
(`chsi_seconds_at_granted_rate`), so both totals can be read.

Environment: BENCH_CYCLE_SIZES (default 2500,5000,10000), BENCH_CYCLE_ENGINES (default
sqlite,postgresql; PostgreSQL is skipped, with a note, when unreachable),
BENCH_CYCLE_CHSI_RATE (学信 requests a second the client keeps to; default 0: no limit),
ZHICHENG_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

SIZES = [int(n) for n in os.environ.get("BENCH_CYCLE_SIZES", "2500,5000,10000").split(",") if n.strip()]
ENGINES = [e.strip() for e in os.environ.get("BENCH_CYCLE_ENGINES", "sqlite,postgresql").split(",") if e.strip()]
PG_URL = os.environ.get("ZHICHENG_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CHSI_RATE = os.environ.get("BENCH_CYCLE_CHSI_RATE", "0")
SEED = 7
TARGET_SECONDS = {10_000: 15 * 60}
# The stand-in world's preparation, not the back office's work: the cycle's time (and
# the target) leaves them out; total_seconds keeps them.
SETUP_STAGES = ("database", "generate")


def main() -> dict:
    figures: dict = {"sizes": SIZES, "engines": {}}
    for engine in ENGINES:
        if engine == "postgresql" and (why := _pg_unreachable()):
            figures["engines"][engine] = {"skipped": f"PostgreSQL unreachable at {PG_URL}: {why}"}
            continue
        runs = [_run(engine, n) for n in SIZES]
        figures["engines"][engine] = {"runs": runs, "linearity": _linearity(runs)}
    return figures


def _run(engine: str, applications: int) -> dict:
    """One whole cycle in a child process; its figures, or why it failed."""
    work = Path(tempfile.mkdtemp(prefix=f"bench-cycle-{engine}-{applications}-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZHICHENG_", "PREFECT_API_URL"))}
    env.update(ZHICHENG_HOME=str(work / "home"), PREFECT_HOME=str(work / "prefect"),
               PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="300", PREFECT_SERVER_ANALYTICS_ENABLED="false",
               ZHICHENG_CHSI_RATE_PER_SECOND=CHSI_RATE)
    schema = None
    if engine == "postgresql":
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        _admin(f'CREATE SCHEMA "{schema}"')
        env.update(ZHICHENG_DATABASE_URL=PG_URL, ZHICHENG_DATABASE_SCHEMA=schema)
    result, log = work / "result.json", work / "cycle.log"
    try:
        started = time.perf_counter()
        with log.open("wb") as out:
            proc = subprocess.run([sys.executable, "-m", "bench.cycle", str(applications), str(work), str(result)],
                                  env=env, stdout=out, stderr=subprocess.STDOUT)
        wall = time.perf_counter() - started
        if proc.returncode != 0 or not result.is_file():
            return {"applications": applications, "failed": f"exit {proc.returncode}",
                    "log_tail": log.read_text(errors="replace")[-2000:]}
        return _figures(applications, json.loads(result.read_text()), wall)
    finally:
        if schema:
            _admin(f'DROP SCHEMA "{schema}" CASCADE')
        shutil.rmtree(work, ignore_errors=True)


def _figures(applications: int, got: dict, wall: float) -> dict:
    stages = {t["stage"]: t["seconds"] for t in got["timings"]}
    total = sum(stages.values())
    cycle = sum(v for k, v in stages.items() if k not in SETUP_STAGES)
    target = TARGET_SECONDS.get(applications)
    return {"applications": applications, "stage_seconds": stages, "total_seconds": round(total, 1),
            "cycle_seconds": round(cycle, 1), "process_wall_seconds": round(wall, 1),
            "applications_per_second": round(applications / cycle, 2) if cycle else None,
            "peak_rss_mb": max(t["peak_rss_mb"] for t in got["timings"]),
            "children_peak_rss_mb": max(t["children_peak_rss_mb"] for t in got["timings"]),
            "issued": got["counts"]["applications"].get("issued", 0),
            "requests": got["requests"], "chsi_rate_per_second": float(CHSI_RATE) or None,
            "chsi_seconds_at_granted_rate": round(got["requests"]["chsi"] / _granted_chsi_rate(), 1),
            **({"target_seconds": target, "under_target": cycle < target} if target else {})}


def _granted_chsi_rate() -> float:
    """The rate config/connectors.yaml grants (what a deployment would keep to)."""
    from zhicheng.config import get_config
    return float(get_config().connectors.policy_of("chsi")["rate_per_second"])


def _linearity(runs: list[dict]) -> list[dict]:
    """Time ratio against the smallest size measured in this run, next to the size ratio."""
    done = [r for r in runs if "cycle_seconds" in r]
    if len(done) < 2:
        return []
    base = done[0]
    return [{"applications": r["applications"], "size_ratio": round(r["applications"] / base["applications"], 2),
             "time_ratio": round(r["cycle_seconds"] / base["cycle_seconds"], 2),
             "linearity": round((r["cycle_seconds"] / base["cycle_seconds"])
                                / (r["applications"] / base["applications"]), 2)} for r in done[1:]]


def _admin(sql: str) -> None:
    from sqlalchemy import create_engine, text
    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def _pg_unreachable() -> str | None:
    try:
        _admin("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means: skip with its reason
        return str(exc).splitlines()[0]
    return None


def child(applications: int, work: Path, result: Path) -> None:
    """In the child process: the demo's script on this size, its summary to `result`."""
    from zhicheng.demo.driver import run_demo
    workspace = work / "home"
    workspace.mkdir(parents=True, exist_ok=True)
    summary = run_demo(applications=applications, seed=SEED, workspace=workspace,
                       progress=lambda step: print(f"cycle: {step}", flush=True))
    result.write_text(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    child(int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
