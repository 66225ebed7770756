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


def _checkout(where: Path) -> Path:
    """Where an operator runs `zhicheng serve`: a clone with an origin, as on a CI runner
    (Prefect would take the commit for a deployment's version there unless told not to)."""
    where.mkdir()
    git = ["git", "-c", "user.name=ops", "-c", "user.email=ops@example.invalid", "-C", str(where)]
    for step in (["init", "-q"], ["commit", "-q", "--allow-empty", "-m", "checkout"],
                 ["remote", "add", "origin", "https://git.example.invalid/office/zhicheng.git"]):
        subprocess.run([*git, *step], check=True, capture_output=True)
    return where


def _serve(prefect_server, home) -> list[dict]:
    env = {**prefect_server.env, "PREFECT_API_URL": prefect_server.api, "ZHICHENG_HOME": str(home)}
    env.pop("ZHICHENG_DATABASE_URL", None)
    cwd = home.parent / "checkout"
    got = subprocess.run([str(BIN / "zhicheng"), "serve", "--json"], env=env, capture_output=True,
                         text=True, timeout=300, cwd=cwd if cwd.exists() else _checkout(cwd))
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
    # all year: 补办, 换发, 历史登记 and resubmissions come outside the declaration period
    assert [s["schedule"]["cron"] for s in by_flow["intake"]["schedules"]] == ["*/15 * * * *"]
    assert by_flow["intake"]["tags"] == ["zhicheng", "intake"]
    assert by_flow["year_end"]["schedules"][0]["schedule"]["cron"] == "0 20 28 12 *"
    assert by_flow["issue"]["schedules"] == []          # on demand, per committee
    assert by_flow["year_end"]["global_concurrency_limit"]["limit"] == 1
    assert by_flow["issue"]["global_concurrency_limit"]["limit"] == 4

    again = _serve(prefect_server, tmp_path / "home")
    assert sorted(r["id"] for r in again) == sorted(r["id"] for r in first)
    assert {r["done"] for r in again} == {"unchanged"}
    assert len(_deployments(prefect_server.api)) == len(FLOWS)
