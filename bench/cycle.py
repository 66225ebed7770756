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

Runners (issue 25): the same script with its flows run in the demo's process
(`inprocess`, the baseline: Prefect's temporary local server), as deployment runs on two
`prefect worker` processes of a Prefect server on PostgreSQL that the bench starts on a
fresh database, dropped afterwards (`workers`), or in process with validation's chunks
on a Dask LocalCluster (`dask`); zhicheng.demo.flow_runs. Every run reports its
certificate registry (zhicheng.demo.registry: numbers gapless per counter and none
twice, every one applied once at the stand-in province by the province's own count)
and each other runner's run is compared with the in-process run of the same engine
and size, which the bench therefore always runs first: the same registry (who got
which number), and its cycle's wall and CPU time as ratios to the in-process run's.

Environment: BENCH_CYCLE_SIZES (default 2500,5000,10000), BENCH_CYCLE_ENGINES (default
sqlite,postgresql; PostgreSQL is skipped, with a note, when unreachable),
BENCH_CYCLE_RUNNERS (default inprocess; e.g. inprocess,workers,dask; `workers` needs
PostgreSQL for its Prefect server),
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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SIZES = [int(n) for n in os.environ.get("BENCH_CYCLE_SIZES", "2500,5000,10000").split(",") if n.strip()]
ENGINES = [e.strip() for e in os.environ.get("BENCH_CYCLE_ENGINES", "sqlite,postgresql").split(",") if e.strip()]
RUNNERS = ["inprocess"] + [r.strip() for r in os.environ.get("BENCH_CYCLE_RUNNERS", "inprocess").split(",")
                           if r.strip() and r.strip() != "inprocess"]
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
    figures: dict = {"sizes": SIZES, "runners": RUNNERS, "engines": {}}
    pg_missing = _pg_unreachable()
    for engine in ENGINES:
        if engine == "postgresql" and pg_missing:
            figures["engines"][engine] = {"skipped": f"PostgreSQL unreachable at {PG_URL}: {pg_missing}"}
            continue
        by_runner: dict[str, list[dict]] = {r: [] for r in RUNNERS}
        for n in SIZES:
            base = _run(engine, n, "inprocess")
            by_runner["inprocess"].append(base)
            for runner in RUNNERS[1:]:
                if runner == "workers" and pg_missing:
                    by_runner[runner].append({"applications": n, "skipped": f"no PostgreSQL for the Prefect server: "
                                                                            f"{pg_missing}"})
                    continue
                by_runner[runner].append(_compared(_run(engine, n, runner), base))
        figures["engines"][engine] = {"runs": by_runner["inprocess"], "linearity": _linearity(by_runner["inprocess"]),
                                      "runners": {r: {"runs": runs, "linearity": _linearity(runs)}
                                                  for r, runs in by_runner.items() if r != "inprocess"}}
    print(table(figures), flush=True)
    return figures


def _compared(run: dict, base: dict) -> dict:
    """A run next to the in-process run of its engine and size: the same registry, and
    its wall and CPU as ratios to the baseline's."""
    if "registry" not in run or "registry" not in base:
        return run
    mine, theirs = run["registry"], base["registry"]
    return {**run, "vs_inprocess": {
        "same_registry": mine["sound"] and theirs["sound"] and mine["digest"] == theirs["digest"],
        "cycle_time_ratio": round(run["cycle_seconds"] / base["cycle_seconds"], 2),
        "cycle_cpu_ratio": round(run["cycle_cpu_seconds"] / base["cycle_cpu_seconds"], 2)}}


def _run(engine: str, applications: int, runner: str) -> dict:
    """One whole cycle in a child process; its figures, or why it failed."""
    work = Path(tempfile.mkdtemp(prefix=f"bench-cycle-{engine}-{applications}-{runner}-"))
    env, schema = child_env(work, engine)
    env.update(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="300", PREFECT_SERVER_ANALYTICS_ENABLED="false",
               ZHICHENG_CHSI_RATE_PER_SECOND=CHSI_RATE, ZHICHENG_DEMO_RUNNER=runner)
    try:
        with _orchestrator(runner, work) as extra:
            return _child(applications, work, {**env, **extra}, runner)
    finally:
        if schema:
            _admin(f'DROP SCHEMA "{schema}" CASCADE')
        shutil.rmtree(work, ignore_errors=True)


@contextmanager
def _orchestrator(runner: str, work: Path) -> Iterator[dict[str, str]]:
    """What the child needs to run its flows on `runner`: for `workers`, a Prefect
    server on a fresh PostgreSQL database (its CPU metered with the child's stages)."""
    if runner != "workers":
        yield {}
        return
    from bench._prefect_server import prefect_server
    with prefect_server(PG_URL, work / "prefect-server") as server:
        yield {"PREFECT_API_URL": server.api, "BENCH_PREFECT_SERVER_PID": str(server.pid)}


def _child(applications: int, work: Path, env: dict[str, str], runner: str) -> dict:
    result, log = work / "result.json", work / "cycle.log"
    load = os.getloadavg()
    with log.open("wb") as out:
        generated = _generate(applications, work / "year", env, out)
        started = time.perf_counter()
        proc = None if generated is None else subprocess.run(
            [sys.executable, "-m", "bench.cycle", str(applications), str(work), str(result)],
            env=env, stdout=out, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - started
    if proc is None or proc.returncode != 0 or not result.is_file():
        stages = work / "stages.json"   # what was measured before it failed, e.g. at 100,000
        failed = "generating the year failed" if proc is None else f"exit {proc.returncode}"
        return {"applications": applications, "runner": runner, "failed": failed,
                "generate_seconds": generated, "wall_seconds": round(wall, 1),
                "stages_done": json.loads(stages.read_text()) if stages.is_file() else [],
                "log_tail": log.read_text(errors="replace")[-2000:]}
    got = json.loads(result.read_text())
    got["timings"].insert(0, {"stage": "generate", "seconds": generated})
    return {**_figures(applications, got, wall),
            "load_average": {"before": round(load[0], 1), "after": round(os.getloadavg()[0], 1)}}


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
    cpu = sum(sum(a["cpu_seconds"].values()) for a in account)
    return {"applications": applications, "runner": got.get("runner", "inprocess"), "registry": got["registry"],
            "stage_seconds": stages, "total_seconds": round(total, 1),
            "cycle_seconds": round(cycle, 1), "cycle_cpu_seconds": round(cpu, 1),
            "critical_path_seconds": round(cycle - overlapped, 1),
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
            **({"worker_flow_runs": _worker_total(account)} if any("worker_flow_runs" in a for a in account) else {}),
            "requests": got["requests"], "chsi_rate_per_second": float(CHSI_RATE) or None,
            "chsi_seconds_at_granted_rate": chsi_granted,
            **({"target_seconds": target, "under_target": cycle < target} if target else {})}


def _account(t: dict, floors: dict) -> dict:
    """Where one stage's wall time went, next to its floor (bench/_floors.py)."""
    from bench._floors import stage_floor
    g = lambda key: t.get(key, 0.0)   # noqa: E731 - a stage before the meters has none
    workers = g("workers_cpu_seconds") + g("exited_children_cpu_seconds")
    parts = stage_floor(t["stage"], g("db_rows_written"), floors, g("requests_hall") + g("requests_province"))
    floor = sum(parts.values())
    return {"stage": t["stage"], "wall_seconds": t["seconds"], "overlapped": t["stage"] in OVERLAPPED_STAGES,
            "cpu_seconds": {"flow_process": round(g("cpu_seconds"), 2), "workers": round(workers, 2),
                            "prefect_server": round(g("prefect_server_cpu_seconds"), 2),
                            "standins": round(g("standins_cpu_seconds"), 2)},
            "waiting_seconds": round(max(0.0, t["seconds"] - g("cpu_seconds") - workers), 2),
            "inside_calls_seconds": {"database": round(g("db_seconds"), 2),
                                     "prefect_api": round(g("prefect_api_seconds"), 2),
                                     **{s: round(g(f"http_{s}_seconds"), 2) for s in ("hall", "chsi", "province")}},
            "peak_rss_mb": t.get("stage_peak_rss_mb"),   # the demo's process in this stage alone
            "rss_after_mb": t.get("rss_after_mb"), "python_blocks_after": t.get("python_blocks"),
            "malloc_after_mb": t.get("malloc_mb"),
            "db_statements": int(g("db_statements")), "db_rows_written": int(g("db_rows_written")),
            "requests": {s: int(g(f"requests_{s}")) for s in ("hall", "chsi", "province")},
            "floor_seconds": round(floor, 2), "floor_parts": {k: round(v, 2) for k, v in parts.items()},
            "ratio_to_floor": round(t["seconds"] / floor, 1) if floor else None,
            "cpu_ratio_to_floor": round((g("cpu_seconds") + workers) / floor, 1) if floor else None,
            **(_naive(t["seconds"], floors) if t["stage"] == "year-end" else {}),
            **({"worker_flow_runs": {"runs": int(g("worker_flow_runs")),
                                     **{k: round(g(f"worker_{k}_seconds"), 2) for k in WORKER_PHASES}}}
               if "worker_flow_runs" in t else {})}


# A worker's flow run, phase by phase (bench/_meters.py): waiting for a worker's poll,
# starting its process, running.
WORKER_PHASES = ("queued", "startup", "running")


def _worker_total(account: list[dict]) -> dict:
    """The worker runs' phases over the whole cycle, and start-up's share of the run."""
    runs = [a["worker_flow_runs"] for a in account if "worker_flow_runs" in a]
    total = {"runs": sum(r["runs"] for r in runs),
             **{k: round(sum(r[k] for r in runs), 1) for k in WORKER_PHASES}}
    return {**total, "startup_seconds_a_run": round(total["startup"] / total["runs"], 2) if total["runs"] else None,
            "queued_seconds_a_run": round(total["queued"] / total["runs"], 2) if total["runs"] else None}


def _naive(seconds: float, floors: dict) -> dict:
    """The year-end next to bench/issuance's naive loop over its certificates."""
    naive = floors["certificates"] * floors["layout_naive_seconds"]
    return {"naive_layout_seconds": round(naive, 2),
            "ratio_to_naive_layout": round(seconds / naive, 2) if naive else None}


def table(figures: dict) -> str:
    """The per-stage account as a plain-text table, one block per engine and size."""
    head = ("stage", "wall", "cpu", "workers", "prefect", "stand-ins", "waiting", "db", "api", "http",
            "floor", "x floor", "cpu x fl", "peak MB")
    lines = []
    for engine, got in figures["engines"].items():
        runs = got.get("runs", []) + [r for by in got.get("runners", {}).values() for r in by["runs"]]
        for run in runs:
            if "stages" not in run:
                continue
            lines.append(f"{engine}, {run['runner']}, {run['applications']} applications: "
                         f"cycle {run['cycle_seconds']} s, {run['cycle_cpu_seconds']} CPU-s, "
                         f"registry {_registry_line(run)}; "
                         f"critical path {run['critical_path_seconds']} s (学信 overlapped: "
                         f"{run['education_sync']['chsi_seconds_at_granted_rate']} s at the granted rate; "
                         f"学信 requests in the year-end: {run['education_sync']['chsi_requests_in_year_end']}); "
                         f"load average {run['load_average']['before']} before, {run['load_average']['after']} after")
            if wr := run.get("worker_flow_runs"):
                lines.append(f"  {wr['runs']} flow runs on the workers: {wr['queued']} s queued for a worker's "
                             f"poll, {wr['startup']} s starting their processes ({wr['startup_seconds_a_run']} s "
                             f"a run), {wr['running']} s running")
            lines.append("  ".join(f"{h:>9}" for h in head))
            for a in run["stages"]:
                c, w = a["cpu_seconds"], a["inside_calls_seconds"]
                cells = (a["stage"] + ("*" if a["overlapped"] else ""), a["wall_seconds"], c["flow_process"],
                         c["workers"], c["prefect_server"], c["standins"], a["waiting_seconds"], w["database"],
                         w["prefect_api"], round(w["hall"] + w["chsi"] + w["province"], 2), a["floor_seconds"],
                         a["ratio_to_floor"], a["cpu_ratio_to_floor"], a.get("peak_rss_mb"))
                lines.append("  ".join(f"{'-' if v is None else v:>9}" for v in cells))
        by_runner = {"inprocess": got, **got.get("runners", {})} if "runs" in got else {}
        lines += [line for runner, by in by_runner.items() if (line := _linearity_line(engine, runner, by))]
    return "\n".join(lines)


def _registry_line(run: dict) -> str:
    reg = run["registry"]
    said = f"{reg['certificates']} certificates {'sound' if reg['sound'] else 'NOT SOUND'} ({reg['digest']})"
    vs = run.get("vs_inprocess")
    if vs:
        said += (", the same as in process" if vs["same_registry"] else ", NOT the same as in process") + \
                f", x{vs['cycle_time_ratio']} wall, x{vs['cycle_cpu_ratio']} CPU"
    return said


def _granted_chsi_rate() -> float:
    """The rate config/connectors.yaml grants (what a deployment would keep to)."""
    from zhicheng.config import get_config
    return float(get_config().connectors.policy_of("chsi")["rate_per_second"])


def _linearity(runs: list[dict]) -> list[dict]:
    """Time ratio against the smallest size measured in this run, next to the size ratio,
    and the peak memory's ratios (the demo's process, its largest child): flat is near 1."""
    done = [r for r in runs if "cycle_seconds" in r]
    if len(done) < 2:
        return []
    base = done[0]
    ratio = lambda r, key: round(r[key] / base[key], 2) if base.get(key) else None   # noqa: E731
    return [{"applications": r["applications"], "size_ratio": round(r["applications"] / base["applications"], 2),
             "time_ratio": ratio(r, "cycle_seconds"),
             "linearity": round((r["cycle_seconds"] / base["cycle_seconds"])
                                / (r["applications"] / base["applications"]), 2),
             "peak_rss_ratio": ratio(r, "peak_rss_mb"),
             "children_peak_rss_ratio": ratio(r, "children_peak_rss_mb")} for r in done[1:]]


def _linearity_line(engine: str, runner: str, got: dict) -> str | None:
    first = next((r for r in got["runs"] if "cycle_seconds" in r), None)
    said = [f"{g['applications']}: x{g['time_ratio']} the time for x{g['size_ratio']} the applications, "
            f"peak memory x{g['peak_rss_ratio']} (largest child x{g['children_peak_rss_ratio']})"
            for g in got["linearity"]]
    return f"{engine}, {runner}, against {first['applications']}: " + "; ".join(said) if said else None


def child_env(work: Path, engine: str) -> tuple[dict[str, str], str | None]:
    """A bench child's environment: its own home and Prefect home under `work`, none of
    this shell's zhicheng or Prefect API settings, and on PostgreSQL a fresh schema
    (returned: the caller drops it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZHICHENG_", "PREFECT_API_URL"))}
    env.update(ZHICHENG_HOME=str(work / "home"), PREFECT_HOME=str(work / "prefect"))
    schema = None
    if engine == "postgresql":
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        _admin(f'CREATE SCHEMA "{schema}"')
        env.update(ZHICHENG_DATABASE_URL=PG_URL, ZHICHENG_DATABASE_SCHEMA=schema)
    return env, schema


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
                       progress=lambda step: print(f"cycle: {step}", flush=True), year=work / "year",
                       stage_done=lambda rows: _write_stages(work, rows))
    print("cycle: floors", flush=True)
    app = build_app()
    summary["floors"] = _floors.measure(app, certificates=summary["counts"]["certificates"])
    app.engine.dispose()
    result.write_text(json.dumps(summary, ensure_ascii=False))


def _write_stages(work: Path, rows: list[dict]) -> None:
    """The stages measured so far, for the parent to report if a later one fails."""
    tmp = work / "stages.json.tmp"
    tmp.write_text(json.dumps(rows, ensure_ascii=False))
    tmp.replace(work / "stages.json")


if __name__ == "__main__":
    child(int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
