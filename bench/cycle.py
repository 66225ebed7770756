"""The whole cycle of a batch year (the demo's script: intake, 学信, validation with
returns and resubmissions, review spreadsheets, publicity with objections, the votes,
the year-end run), for several sizes on SQLite and on PostgreSQL.

Each (engine, size) runs `zhicheng.demo.driver.run_demo` in a fresh process of its
own, with its own workspace, stand-ins and temporary Prefect server, so its peak RSS
(ru_maxrss) is its own; the year it runs on is generated before, in a process of its
own (`zhicheng generate` holds the whole year in memory: the stand-in world's, not the
back office's). PostgreSQL runs in a fresh schema that is dropped afterwards.
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
# Stages production runs beside the rest, not before it: education sync is hourly as
# applications arrive (config/deployments.yaml), so the year-end's path excludes it.
OVERLAPPED_STAGES = ("学信",)


def main() -> dict:
    figures: dict = {"sizes": SIZES, "engines": {}}
    for engine in ENGINES:
        if engine == "postgresql" and (why := _pg_unreachable()):
            figures["engines"][engine] = {"skipped": f"PostgreSQL unreachable at {PG_URL}: {why}"}
            continue
        runs = [_run(engine, n) for n in SIZES]
        figures["engines"][engine] = {"runs": runs, "linearity": _linearity(runs)}
    print(table(figures), flush=True)
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
        load = os.getloadavg()
        with log.open("wb") as out:
            generated = _generate(applications, work / "year", env, out)
            started = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "bench.cycle", str(applications), str(work), str(result)],
                                  env=env, stdout=out, stderr=subprocess.STDOUT)
        wall = time.perf_counter() - started
        if generated is None or proc.returncode != 0 or not result.is_file():
            return {"applications": applications, "failed": f"exit {proc.returncode}",
                    "log_tail": log.read_text(errors="replace")[-2000:]}
        got = json.loads(result.read_text())
        got["timings"].insert(0, {"stage": "generate", "seconds": generated})
        return {**_figures(applications, got, wall),
                "load_average": {"before": round(load[0], 1), "after": round(os.getloadavg()[0], 1)}}
    finally:
        if schema:
            _admin(f'DROP SCHEMA "{schema}" CASCADE')
        shutil.rmtree(work, ignore_errors=True)


def _generate(applications: int, year: Path, env: dict, out) -> float | None:
    """The stand-in world's year, generated in a process of its own (it holds the whole
    year in memory: at 100,000 applications that is the stand-ins' memory, not the back
    office's); its seconds, or None when it failed."""
    from zhicheng.demo.driver import YEAR
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "zhicheng.cli.main", "generate", "--applications",
                           str(applications), "--seed", str(SEED), "--batch-year", str(YEAR), "--out", str(year)],
                          env=env, stdout=out, stderr=subprocess.STDOUT)
    return round(time.perf_counter() - started, 2) if proc.returncode == 0 else None


def _figures(applications: int, got: dict, wall: float) -> dict:
    stages = {t["stage"]: t["seconds"] for t in got["timings"]}
    total = sum(stages.values())
    cycle = sum(v for k, v in stages.items() if k not in SETUP_STAGES)
    overlapped = sum(v for k, v in stages.items() if k in OVERLAPPED_STAGES)
    target = TARGET_SECONDS.get(applications)
    account = [_account(t, got["floors"]) for t in got["timings"] if t["stage"] not in SETUP_STAGES]
    chsi_granted = round(got["requests"]["chsi"] / _granted_chsi_rate(), 1)
    return {"applications": applications, "stage_seconds": stages, "total_seconds": round(total, 1),
            "cycle_seconds": round(cycle, 1), "critical_path_seconds": round(cycle - overlapped, 1),
            "process_wall_seconds": round(wall, 1),
            "applications_per_second": round(applications / cycle, 2) if cycle else None,
            "stages": account, "floors": got["floors"],
            "education_sync": {"overlapped": True, "seconds": stages.get("学信"),
                               "requests": got["requests"]["chsi"], "chsi_seconds_at_granted_rate": chsi_granted,
                               "chsi_requests_in_year_end": next((a["requests"]["chsi"] for a in account
                                                                  if a["stage"] == "year-end"), None)},
            "peak_rss_mb": max(t.get("peak_rss_mb", 0) for t in got["timings"]),
            "children_peak_rss_mb": max(t.get("children_peak_rss_mb", 0) for t in got["timings"]),
            "issued": got["counts"]["applications"].get("issued", 0),
            "requests": got["requests"], "chsi_rate_per_second": float(CHSI_RATE) or None,
            "chsi_seconds_at_granted_rate": chsi_granted,
            **({"target_seconds": target, "under_target": cycle < target} if target else {})}


def _account(t: dict, floors: dict) -> dict:
    """Where one stage's wall time went, next to its floor (bench/_floors.py)."""
    from bench._floors import stage_floor
    g = lambda key: t.get(key, 0.0)   # noqa: E731 - a stage before the meters has none
    workers = g("workers_cpu_seconds") + g("exited_children_cpu_seconds")
    parts = stage_floor(t["stage"], g("db_rows_written"), floors)
    floor = sum(parts.values())
    return {"stage": t["stage"], "wall_seconds": t["seconds"], "overlapped": t["stage"] in OVERLAPPED_STAGES,
            "cpu_seconds": {"flow_process": round(g("cpu_seconds"), 2), "workers": round(workers, 2),
                            "prefect_server": round(g("prefect_server_cpu_seconds"), 2),
                            "standins": round(g("standins_cpu_seconds"), 2)},
            "waiting_seconds": round(max(0.0, t["seconds"] - g("cpu_seconds") - workers), 2),
            "inside_calls_seconds": {"database": round(g("db_seconds"), 2),
                                     "prefect_api": round(g("prefect_api_seconds"), 2),
                                     **{s: round(g(f"http_{s}_seconds"), 2) for s in ("hall", "chsi", "province")}},
            "db_statements": int(g("db_statements")), "db_rows_written": int(g("db_rows_written")),
            "requests": {s: int(g(f"requests_{s}")) for s in ("hall", "chsi", "province")},
            "floor_seconds": round(floor, 2), "floor_parts": {k: round(v, 2) for k, v in parts.items()},
            "ratio_to_floor": round(t["seconds"] / floor, 1) if floor else None,
            "cpu_ratio_to_floor": round((g("cpu_seconds") + workers) / floor, 1) if floor else None,
            **(_naive(t["seconds"], floors) if t["stage"] == "year-end" else {})}


def _naive(seconds: float, floors: dict) -> dict:
    """The year-end next to bench/issuance's naive loop over its certificates."""
    naive = floors["certificates"] * floors["layout_naive_seconds"]
    return {"naive_layout_seconds": round(naive, 2),
            "ratio_to_naive_layout": round(seconds / naive, 2) if naive else None}


def table(figures: dict) -> str:
    """The per-stage account as a plain-text table, one block per engine and size."""
    head = ("stage", "wall", "cpu", "workers", "prefect", "stand-ins", "waiting", "db", "api", "http",
            "floor", "x floor", "cpu x fl")
    lines = []
    for engine, got in figures["engines"].items():
        for run in got.get("runs", []):
            if "stages" not in run:
                continue
            lines.append(f"{engine}, {run['applications']} applications: cycle {run['cycle_seconds']} s, "
                         f"critical path {run['critical_path_seconds']} s (学信 overlapped: "
                         f"{run['education_sync']['chsi_seconds_at_granted_rate']} s at the granted rate; "
                         f"学信 requests in the year-end: {run['education_sync']['chsi_requests_in_year_end']}); "
                         f"load average {run['load_average']['before']} before, {run['load_average']['after']} after")
            lines.append("  ".join(f"{h:>9}" for h in head))
            for a in run["stages"]:
                c, w = a["cpu_seconds"], a["inside_calls_seconds"]
                cells = (a["stage"] + ("*" if a["overlapped"] else ""), a["wall_seconds"], c["flow_process"],
                         c["workers"], c["prefect_server"], c["standins"], a["waiting_seconds"], w["database"],
                         w["prefect_api"], round(w["hall"] + w["chsi"] + w["province"], 2), a["floor_seconds"],
                         a["ratio_to_floor"], a["cpu_ratio_to_floor"])
                lines.append("  ".join(f"{'-' if v is None else v:>9}" for v in cells))
    return "\n".join(lines)


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
    """In the child process: the demo's script on this size with the stage meters on,
    then the stages' floors measured on its files; its summary to `result`."""
    from bench import _floors, _meters
    from zhicheng.bootstrap import build_app
    from zhicheng.demo.driver import run_demo
    workspace = work / "home"
    workspace.mkdir(parents=True, exist_ok=True)
    _meters.install()
    summary = run_demo(applications=applications, seed=SEED, workspace=workspace, meters=_meters.read,
                       progress=lambda step: print(f"cycle: {step}", flush=True), year=work / "year")
    print("cycle: floors", flush=True)
    app = build_app()
    summary["floors"] = _floors.measure(app, certificates=summary["counts"]["certificates"])
    app.engine.dispose()
    result.write_text(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    child(int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
