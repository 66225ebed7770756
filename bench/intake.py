"""Intake alone (issue 25): the CPU each material file costs, against the floor of a
file stored (bench/_floors.py: read, SHA-256, write), measured in the same run.

For each engine, a fresh child process with its own workspace: a year of
BENCH_INTAKE_APPLICATIONS (default 1500) generated, the stand-ins started as the demo
starts them, then intake's steps as the flow runs them (the lock, the sweep, page after
page through the download workers) without Prefect, so only intake is counted. CPU is
read per kind: the flow's process, the download workers (spawn and imports included),
and the stand-in hall serving the files (the same machine's CPU, but not the back
office's: a real hall serves them elsewhere). The floor is measured afterwards on the
files intake wrote, in the same child.

Figures per engine: files fetched, CPU milliseconds a file (flow process, workers,
stand-ins), the floor a file, the back office's CPU (flow + workers) over the floor,
files a second (wall, which depends on the machine's load) and the load average.
Environment: BENCH_INTAKE_APPLICATIONS, BENCH_INTAKE_ENGINES (default
sqlite,postgresql), ZHICHENG_TEST_POSTGRES_URL.
"""
from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

APPLICATIONS = int(os.environ.get("BENCH_INTAKE_APPLICATIONS", "1500"))
ENGINES = [e.strip() for e in os.environ.get("BENCH_INTAKE_ENGINES", "sqlite,postgresql").split(",") if e.strip()]
SEED = 7


def main() -> dict:
    from bench.cycle import PG_URL, _admin, _pg_unreachable, child_env
    figures: dict = {"applications": APPLICATIONS, "engines": {}}
    for engine in ENGINES:
        if engine == "postgresql" and (why := _pg_unreachable()):
            figures["engines"][engine] = {"skipped": f"PostgreSQL unreachable at {PG_URL}: {why}"}
            continue
        work = Path(tempfile.mkdtemp(prefix=f"bench-intake-{engine}-"))
        env, schema = child_env(work, engine)
        try:
            result = work / "result.json"
            proc = subprocess.run([sys.executable, "-m", "bench.intake", str(APPLICATIONS), str(work), str(result)],
                                  env=env, capture_output=True, text=True)
            figures["engines"][engine] = (json.loads(result.read_text()) if proc.returncode == 0
                                          else {"failed": proc.returncode, "log_tail": proc.stderr[-2000:]})
        finally:
            if schema:
                _admin(f'DROP SCHEMA "{schema}" CASCADE')
            shutil.rmtree(work, ignore_errors=True)
    return figures


def _cpu() -> dict[str, float]:
    from bench._meters import _descendants_cpu
    own, reaped = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    d = _descendants_cpu()
    return {"flow_process": own.ru_utime + own.ru_stime,
            "workers": d["workers_cpu_seconds"] + reaped.ru_utime + reaped.ru_stime,
            "standins": d["standins_cpu_seconds"]}


def _intake(app) -> dict[str, int]:
    """Intake's steps as the flow runs them, without Prefect."""
    from zhicheng.connectors.hall import HallClient
    from zhicheng.intake import service as intake
    from zhicheng.intake.downloads import Downloader
    from zhicheng.locks import exclusive
    totals = {"pages": 0, "received": 0, "files": 0}
    with exclusive(app.engine, "intake", now=app.clock.now()):
        intake.remove_partial_files(app.settings.home)
        with HallClient.from_settings(app.settings, app.config) as hall:
            fetch = Downloader.from_config(hall, app.settings.home, app.config).fetch
            while True:
                got = intake.pull_page(sessions=app.sessions, hall=hall, config=app.config, fetch=fetch,
                                       files_root=app.settings.home, now=app.clock.now(),
                                       limit=app.config.policy.chunks.intake_page)
                totals["pages"] += 1
                totals["received"] += got.received
                totals["files"] += got.files
                if got.next_cursor is None:
                    return totals


def child(applications: int, work: Path, result: Path) -> None:
    from bench import _floors
    from zhicheng.bootstrap import build_app
    from zhicheng.demo.driver import requests_served
    from zhicheng.standins.generator import generate
    from zhicheng.standins.remote import start_remote_standins
    from zhicheng.workspace import upgrade_database
    (work / "home").mkdir(parents=True, exist_ok=True)
    generate(work / "year", applications=applications, seed=SEED, batch_year=2026)
    standins = start_remote_standins(year_dir=work / "year", state_dir=work / "standins", seed=SEED)
    try:
        os.environ.update(standins.env())
        app = build_app()
        upgrade_database(app)
        load, before, started = os.getloadavg()[0], _cpu(), time.perf_counter()
        totals = _intake(app)
        wall, after = time.perf_counter() - started, _cpu()
        hall_requests = requests_served(standins)["hall"]
    finally:
        standins.stop()
    floors = _floors.measure_store(app)
    app.engine.dispose()
    cpu = {k: after[k] - before[k] for k in after}
    files = hall_requests - totals["pages"]   # a request a file, one a page of submissions
    per_file = {k: round(1000 * v / files, 3) for k, v in cpu.items()}
    ours = cpu["flow_process"] + cpu["workers"]
    floor = files * floors["store_file_seconds"]
    result.write_text(json.dumps({
        **totals, "files_fetched": files, "wall_seconds": round(wall, 1),
        "files_per_second": round(files / wall, 1), "cpu_seconds": {k: round(v, 2) for k, v in cpu.items()},
        "cpu_ms_per_file": per_file, "floor_ms_per_file": round(1000 * floors["store_file_seconds"], 3),
        "floor_sampled_files": floors["sampled"], "cpu_ratio_to_floor": round(ours / floor, 2),
        "cpu_ratio_to_floor_with_standins": round((ours + cpu["standins"]) / floor, 2),
        "load_average": {"before": round(load, 1), "after": round(os.getloadavg()[0], 1)}}))


if __name__ == "__main__":
    child(int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
