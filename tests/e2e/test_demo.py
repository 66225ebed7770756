"""`zhicheng demo`, the README's main job, run as a newcomer runs it (a subprocess on
embedded defaults), on a small year."""
import json
import os
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
    assert {"intake", "validation", "review decisions", "expert votes", "year-end: issue",
            "year-end: push", "year-end: reconcile"} <= steps
    assert summary["statuses"].get("issued", 0) > 0
    assert not set(summary["statuses"]) & {"received", "validated", "in_review", "approved"}, summary["statuses"]
    pdfs = list((workspace / "certificates").rglob("*.pdf"))
    assert len(pdfs) == summary["statuses"]["issued"]
    assert list((workspace / "publicity").glob("*.pdf")) and (workspace / "quality" / "index.html").is_file()
