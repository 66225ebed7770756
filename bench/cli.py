"""What a one-off command costs: `zhicheng validate` with nothing to do, and `zhicheng
push` of BENCH_CLI_PUSH records (default 3,000) to the loopback province stand-in, each
a new process as an operator's shell or cron starts it, with no Prefect API configured.

Measured in the same run, on the same data:
- `verb`: the command as it is (its flow's code in its own process, no Prefect server);
- `temporary_server`: the same flow called through Prefect with no API, so that Prefect
  starts its temporary server for the one command (what every verb did before; given
  120 s to start instead of Prefect's 20, which a busy machine does not meet);
- `bare`: the service call alone in this process (the push: zhicheng.delivery.service.push_province),
  the baseline; `ratio` = verb / bare (wall seconds), `startup_s` = verb - bare.
`*_cpu_s`: CPU seconds of the command (and its children), what its wall time comes to
on an idle machine. Targets (issue 20): validate with nothing to do under 3 s; the
push's cost should be the push, not starting up.
"""
from __future__ import annotations

import datetime as dt
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PUSH = int(os.environ.get("BENCH_CLI_PUSH", "3000"))
AS_OF = "2026-12-28T20:00:00+08:00"
APP_ID, SECRET = "bench-app", "bench-secret-0123456789"
BIN = Path(sys.executable).parent
THROUGH_PREFECT = "from zhicheng.flows.{module} import {flow} as f; f(as_of={as_of!r})"
SERVER_START = {"PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120"}


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API", "ZHICHENG_"))}
    return env | {"ZHICHENG_HOME": str(home), "ZHICHENG_DATABASE_URL": f"sqlite:///{home / 'bench.db'}",
                  "PREFECT_HOME": str(home / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                  "DO_NOT_TRACK": "1", **extra}


def _timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and its children) of one command."""
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    got = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert got.returncode == 0, got.stderr[-2000:]
    return round(seconds, 2), round(after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime, 2)


def _fresh(home: Path, records: int):
    """An upgraded database in `home` with `records` certificates queued for the province."""
    from zhicheng.bootstrap import build_app
    from zhicheng.clock import FixedClock
    from zhicheng.demo.delivery_samples import add_certificates
    from zhicheng.settings import Settings
    from zhicheng.workspace import upgrade_database
    home.mkdir(parents=True)
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'bench.db'}")
    app = build_app(settings=settings, clock=FixedClock(dt.datetime.fromisoformat(AS_OF)))
    upgrade_database(app)
    if records:
        add_certificates(app, records)
    return app


def validate_nothing_to_do(work: Path) -> dict:
    home = work / "validate"
    _fresh(home, 0).engine.dispose()
    env = _env(home)
    verb, verb_cpu = min(_timed([str(BIN / "zhicheng"), "validate", "--json"], env) for _ in range(3))
    server, server_cpu = _timed([sys.executable, "-c", THROUGH_PREFECT.format(
        module="validation", flow="validate", as_of=AS_OF)], env | SERVER_START)
    return {"verb_s": verb, "verb_cpu_s": verb_cpu, "temporary_server_s": server,
            "temporary_server_cpu_s": server_cpu, "target_s": 3, "met": verb < 3}


def push(work: Path) -> dict:
    from zhicheng.connectors.province import ProvinceClient
    from zhicheng.delivery.service import policy, push_province
    from zhicheng.settings import Settings
    from zhicheng.standins.province import Province
    out = {"records": PUSH}
    for way in ("bare", "verb", "temporary_server"):
        home = work / f"push-{way}"
        app = _fresh(home, PUSH)
        province = Province(state_path=home / "province.sqlite", secrets={APP_ID: SECRET}).start()
        try:
            env = _env(home, ZHICHENG_PROVINCE_URL=province.url, ZHICHENG_PROVINCE_APP_ID=APP_ID,
                       ZHICHENG_PROVINCE_APP_SECRET=SECRET)
            if way == "bare":
                size, attempts = policy(app.config)
                settings = Settings(province_url=province.url, province_app_id=APP_ID, province_app_secret=SECRET)
                started = time.perf_counter()
                with ProvinceClient.from_settings(settings, app.config) as client:
                    push_province(sessions=app.sessions, client=client, now=app.clock.now(), batch_size=size,
                                  max_attempts=attempts)
                out["bare_s"] = round(time.perf_counter() - started, 2)
            elif way == "verb":
                out["verb_s"], out["verb_cpu_s"] = _timed(
                    [str(BIN / "zhicheng"), "push", "--as-of", AS_OF, "--json"], env)
            else:
                out["temporary_server_s"], out["temporary_server_cpu_s"] = _timed(
                    [sys.executable, "-c", THROUGH_PREFECT.format(module="delivery", flow="push", as_of=AS_OF)],
                    env | SERVER_START)
            assert len(province.applied_counts()) == PUSH, way
        finally:
            province.stop()
            app.engine.dispose()
    out["ratio"] = round(out["verb_s"] / out["bare_s"], 2)
    out["startup_s"] = round(out["verb_s"] - out["bare_s"], 2)
    out["records_per_second_verb"] = round(PUSH / out["verb_s"], 1)
    return out


def main() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        return {"validate_nothing_to_do": validate_nothing_to_do(work), "push": push(work),
                "load_average": os.getloadavg()[0]}


if __name__ == "__main__":
    import json
    print(json.dumps(main(), indent=2))
