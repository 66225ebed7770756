"""Issue 25 on a small year: the demo's whole cycle with every flow a deployment run on
two `prefect worker` processes of a Prefect server on PostgreSQL, the registry on
PostgreSQL (docs/scale-out.md, "The whole cycle on workers"). It ends with one sound
registry, checked against the stand-in province's own record (its state file): numbers
without a gap in each counter and none twice, every certificate applied at the
province once and nothing there that we do not hold. The flow runs got the simulated
clock from their parameters only: the certificates carry the year-end's date, not the
machine's."""
import json
import sqlite3
import subprocess
import sys
import uuid
from collections import defaultdict

import pytest
from sqlalchemy import create_engine, text

from support import PG_URL
from zhicheng.domain.certificate_numbers import is_valid_number, parse_number

pytestmark = pytest.mark.slow
APPLICATIONS = 150
# The demo's script in a process of its own (it sets the stand-ins' URLs in its environment).
CHILD = ("import json, pathlib, sys; from zhicheng.demo.driver import run_demo; "
         "out = run_demo(applications=int(sys.argv[1]), seed=5, workspace=pathlib.Path(sys.argv[2]), "
         "runner='workers'); "
         "pathlib.Path(sys.argv[3]).write_text(json.dumps(out, ensure_ascii=False, default=str))")


@pytest.fixture
def registry_db():
    name = f"zc_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_the_cycle_on_two_workers_leaves_one_registry_the_province_holds_once(prefect_server, registry_db, tmp_path):
    workspace, result = tmp_path / "demo", tmp_path / "summary.json"
    workspace.mkdir()
    env = {**prefect_server.env, "PREFECT_API_URL": prefect_server.api, "ZHICHENG_HOME": str(workspace),
           "ZHICHENG_DATABASE_URL": registry_db, "ZHICHENG_DATABASE_SCHEMA": "", "ZHICHENG_CHSI_RATE_PER_SECOND": "0"}
    proc = subprocess.run([sys.executable, "-c", CHILD, str(APPLICATIONS), str(workspace), str(result)], env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(result.read_text())
    assert summary["runner"] == "workers"
    ours, counters = _certificates(registry_db)
    assert len(ours) == summary["counts"]["certificates"] and summary["counts"]["applications"]["issued"] > 0
    _assert_gapless(list(ours), counters)
    applied = _applied_at_province(workspace / "standins" / "province.sqlite")
    assert {no: applied.get(no) for no in ours} == {no: 1 for no in ours}
    assert {no for no, n in applied.items() if n > 0} == set(ours)
    assert {str(d) for no, d in ours.items() if (no[:6], int(no[6:10]), int(no[10])) in counters} \
        == {"2026-12-17"}   # the year-end's as_of (driver.MOMENTS), not the machine's date
    assert summary["registry"]["sound"], summary["registry"]
    _assert_ran_on_the_workers(prefect_server, workspace)
    _assert_the_issue_step_was_shared_by_issuer(prefect_server, workspace, ours)


def _assert_the_issue_step_was_shared_by_issuer(server, workspace, ours) -> None:
    """The year-end's issue step ran as one run of the `issue` deployment an issuer,
    each taken by a worker, together issuing every certificate the year-end issued."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings
    with temporary_settings({PREFECT_API_URL: server.api}), get_client(sync_client=True) as client:
        shares = [r for r in client.read_flow_runs() if r.name.startswith("issue-2026-")]
    issuers = sorted(r.parameters["issuer"] for r in shares)
    assert len(issuers) >= 2 and len(set(issuers)) == len(issuers), issuers
    assert all(r.state.is_completed() and r.deployment_id and r.parent_task_run_id for r in shares)
    logs = "".join(p.read_text(errors="replace") for p in (workspace / "runs").glob("worker-*.log"))
    assert all(str(r.id) in logs for r in shares)
    issued_on_the_day = {no[:6] for no, on in ours.items() if str(on) == "2026-12-17"}
    assert issued_on_the_day == set(issuers) - {"-"}


def _certificates(url: str) -> tuple[dict[str, object], dict[tuple, int]]:
    """Our certificates (number -> issued on) and serial counters (-> next serial)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            certs = dict(conn.execute(text("SELECT certificate_no, issued_on FROM certificates")).all())
            counters = {tuple(r[:3]): r[3] for r in conn.execute(text(
                "SELECT issuer_region_code, year, level_digit, next_serial FROM serial_counters"))}
    finally:
        engine.dispose()
    return certs, counters


def _assert_gapless(numbers: list[str], counters: dict[tuple, int]) -> None:
    """Each counter's numbers are 1 to its next serial less one, once each (the rest,
    历史登记's, keep a former platform's numbers)."""
    serials = defaultdict(list)
    for no in filter(is_valid_number, numbers):
        n = parse_number(no)
        if (n.issuer_region_code, n.year, n.level_digit) in counters:
            serials[(n.issuer_region_code, n.year, n.level_digit)].append(n.serial)
    assert counters
    for counter, nxt in counters.items():
        assert sorted(serials[counter]) == list(range(1, nxt)), f"gaps or repeats in {counter}"


def _applied_at_province(state: object) -> dict[str, int]:
    with sqlite3.connect(f"file:{state}?mode=ro", uri=True) as conn:
        return dict(conn.execute("SELECT certificate_no, applied FROM certificates").fetchall())


def _assert_ran_on_the_workers(server, workspace) -> None:
    """Every flow run of the demo was a run of a deployment in the work pool, and one
    of the two workers (their logs name the runs they took) ran it."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from zhicheng.demo.flow_runs import POOL
    with temporary_settings({PREFECT_API_URL: server.api}), get_client(sync_client=True) as client:
        runs = [r for r in client.read_flow_runs() if r.parent_task_run_id is None]
    assert runs and all(r.work_pool_name == POOL and r.deployment_id for r in runs), runs
    logs = [p.read_text(errors="replace") for p in sorted((workspace / "runs").glob("worker-*.log"))]
    assert len(logs) == 2
    assert all(any(str(r.id) in log for log in logs) for r in runs)
