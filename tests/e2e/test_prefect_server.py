"""A Prefect server on PostgreSQL answers; `zhicheng serve` against it: one deployment per flow, with the
schedules and concurrency limits of config/deployments.yaml, registered idempotently."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import requests

BIN = Path(sys.executable).parent

FLOWS = {"intake", "validate", "education_sync", "publicity_close_due", "review_overdue", "push",
         "reconcile", "quality", "votes_tally", "issue", "year_end"}



def test_server_on_postgres_answers(prefect_server):
    assert requests.get(f"{prefect_server.api}/health", timeout=5).json() is True


def _serve(prefect_server, home) -> list[dict]:
    env = {**prefect_server.env, "PREFECT_API_URL": prefect_server.api, "ZHICHENG_HOME": str(home)}
    env.pop("ZHICHENG_DATABASE_URL", None)
    got = subprocess.run([str(BIN / "zhicheng"), "serve", "--json"], env=env, capture_output=True,
                         text=True, timeout=300)
    assert got.returncode == 0, got.stderr
    return json.loads(got.stdout)


def _deployments(api: str) -> dict[str, dict]:
    rows = requests.post(f"{api}/deployments/filter", json={"limit": 200}, timeout=10).json()
    flows = {f["id"]: f["name"] for f in requests.post(f"{api}/flows/filter", json={}, timeout=10).json()}
    return {flows[d["flow_id"]]: d for d in rows}


def test_serve_registers_every_flow_with_its_schedule_and_limit(prefect_server, tmp_path):
    first = _serve(prefect_server, tmp_path / "home")
    by_flow = _deployments(prefect_server.api)
    assert set(by_flow) == FLOWS
    assert all(d["work_pool_name"] == "zhicheng" and d["description"] for d in by_flow.values())

    close_due = by_flow["publicity_close_due"]["schedules"]
    assert [(s["schedule"]["cron"], s["schedule"]["timezone"], s["active"]) for s in close_due] == \
        [("30 0 * * *", "Asia/Shanghai", True)]
    intake = [s["schedule"]["rrule"] for s in by_flow["intake"]["schedules"]]
    assert intake and all("FREQ=MINUTELY;INTERVAL=15" in r for r in intake)
    assert by_flow["year_end"]["schedules"][0]["schedule"]["cron"] == "0 20 28 12 *"
    assert by_flow["issue"]["schedules"] == []          # on demand, per committee
    assert by_flow["year_end"]["global_concurrency_limit"]["limit"] == 1
    assert by_flow["issue"]["global_concurrency_limit"]["limit"] == 4

    again = _serve(prefect_server, tmp_path / "home")
    assert sorted(r["id"] for r in again) == sorted(r["id"] for r in first)
    assert len(_deployments(prefect_server.api)) == len(FLOWS)
