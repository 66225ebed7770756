"""`zhicheng demo`, the README's main job, run as a newcomer runs it (a subprocess on
embedded defaults), on a small year."""
import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_the_demo_walks_a_year_to_certificates_at_the_province(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZHICHENG_", "PREFECT_API_URL"))}
    env["PREFECT_HOME"] = str(tmp_path / "prefect")
    workspace = tmp_path / "demo"
    proc = subprocess.run([str(Path(sys.executable).parent / "zhicheng"), "demo", "--applications", "24",
                           "--seed", "3", "--workspace", str(workspace), "--json"],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout[proc.stdout.index("{"):])
    steps = {name for name, _ in summary["steps"]}
    assert {"收件", "材料审核", "审核决定", "专家评审投票", "年终发证：发证",
            "年终发证：推送", "年终发证：核对"} <= steps
    statuses = summary["counts"]["applications"]
    assert statuses.get("issued", 0) > 0
    assert not set(statuses) & {"received", "validated", "in_review", "approved"}, statuses
    assert summary["counts"] == counted_in(workspace / "zhicheng.db")
    served = summary["requests"]             # answered by the stand-ins' own process
    assert served["hall"] >= 24 and served["chsi"] > 0 and served["province"] > 0, served
    pdfs = list((workspace / "certificates").rglob("*.pdf"))
    assert len(pdfs) == statuses["issued"]
    assert list((workspace / "publicity").glob("*.pdf")) and (workspace / "quality" / "index.html").is_file()
    decisions = sorted(p.name for p in (workspace / "demo-files").glob("review-*"))
    assert {p.rsplit(".", 1)[1] for p in decisions} == {"csv", "xlsx"}, decisions
    steps = dict(summary["steps"])
    assert "退回修改 1 件，不通过 1 件" in steps["审核决定"]
    assert "退回的办件中 1 件已修改并回到退回环节" in steps["审核决定"]
    # the notices leave as their stage ends (production pushes every 10 minutes), not at the year-end
    for notices in ("审核结果通知", "评前/初定公示通知", "评后公示通知"):
        assert re.search(r"大厅：发送消息 [1-9][0-9]* 条", steps[notices]), steps[notices]
    assert not any(line.startswith("{") or "'" in line for line in steps.values()), steps
    assert quality_failures(workspace / "zhicheng.db") == set()


def quality_failures(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        (summary,) = conn.execute("SELECT summary FROM year_end_steps WHERE step = 'quality'").fetchone()
    return {f"{f['suite']}.{f['check']}" for f in json.loads(summary)["failed"]}


def counted_in(db: Path) -> dict:
    """The demo's summary, counted straight from its SQLite file with plain SQL."""
    with sqlite3.connect(db) as conn:
        def one(sql):
            return conn.execute(sql).fetchone()[0]
        return {"applications": dict(conn.execute("SELECT status, count(*) FROM applications GROUP BY status")),
                "decisions": dict(conn.execute("SELECT action, count(*) FROM decisions GROUP BY action")),
                "publicity_windows": one("SELECT count(*) FROM publicity_windows"),
                "objections": one("SELECT count(*) FROM objections"),
                "voting_sessions": one("SELECT count(*) FROM voting_sessions"),
                "certificates": one("SELECT count(*) FROM certificates")}
