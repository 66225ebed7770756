"""Two quality runs at once, as real processes, on both engines (issue 24): the GX
project, its Data Docs and the results history stay whole. A `zhicheng quality` that
meets another run exits 1 at once saying so; with `--wait` it waits for it, says so,
and runs after it; two waiting runs started together both finish, one after the
other. A staff file's check met during a run is skipped with a warning, and its
import goes on."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml
from sqlalchemy import func, select
from typer.testing import CliRunner

from stage_data import write_csv
from tests.integration.quality_data import clean_year
from zhicheng.db.models import QualityResult
from zhicheng.locks import exclusive
from zhicheng.quality import file_checks
from zhicheng.quality import service as quality

pytestmark = pytest.mark.slow
AS_OF = "2026-06-01T09:00:00+08:00"

# Holds the quality lock as a run does, until the test closes its stdin.
HOLDER = r"""
import sys
from zhicheng.bootstrap import build_app
from zhicheng.quality import service
app = build_app()
with service.one_run(app=app, wait_seconds=0):
    print("held", flush=True)
    sys.stdin.read()
"""


def _env() -> dict[str, str]:
    # the command line without a Prefect API runs the flow's code in its own process
    return {**os.environ, "PREFECT_API_URL": "", "PYTHONUNBUFFERED": "1"}


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "zhicheng.cli.main", "quality", "--as-of", AS_OF, *args]


def _runs(app) -> dict[str, int]:
    """Checks recorded per run id (registry runs only)."""
    with app.sessions() as s:
        return dict(s.execute(select(QualityResult.run_id, func.count()).where(~QualityResult.suite.startswith("file_"))
                              .group_by(QualityResult.run_id)).all())


def _checks(app) -> int:
    """The checks of a whole run (every suite's; no team's own here)."""
    from zhicheng.expectations import SUITE_NAMES, build_suite
    params = quality._params(app, quality.plan(app=app))
    return sum(len(build_suite(n, params).checks) for n in SUITE_NAMES)


def test_a_second_run_is_refused_or_waits_then_runs(app):
    clean_year(app)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER], env=_env(), stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held", holder.stderr.read()
        refused = subprocess.run(_cli(), env=_env(), capture_output=True, text=True, timeout=300)
        assert refused.returncode == 1, refused.stderr
        assert "正在使用 GX 项目" in refused.stderr and "--wait" in refused.stderr
        assert _runs(app) == {} and not (app.settings.home / "quality" / "results").exists()

        waiter = subprocess.Popen(_cli("--wait", "300", "--json"), env=_env(), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        for line in waiter.stderr:          # it says it waits, and has run nothing yet
            if "等待它结束" in line:
                break
        else:
            pytest.fail(f"the waiting run never said it waits: {waiter.wait()}")
        assert _runs(app) == {}
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    out, err = waiter.communicate(timeout=300)
    assert waiter.returncode == 0, err
    report = json.loads(out)
    assert _runs(app) == {report["run_id"]: _checks(app)}


def test_two_runs_started_together_both_finish_whole(app):
    clean_year(app)
    runs = [subprocess.Popen(_cli("--wait", "600", "--json"), env=_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    reports = []
    for proc in runs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        reports.append(json.loads(out))
    ids = {r["run_id"] for r in reports}
    assert len(ids) == 2 and _runs(app) == dict.fromkeys(ids, _checks(app))
    home = app.settings.home
    index = (home / "quality" / "index.html").read_text(encoding="utf-8")
    assert all(i in index for i in ids)
    config = yaml.safe_load((home / "gx" / "great_expectations.yml").read_text(encoding="utf-8"))
    assert "zhicheng_quality" in config["data_docs_sites"]
    for suite in (home / "gx" / "expectations").glob("*.json"):
        assert json.loads(suite.read_text(encoding="utf-8"))["expectations"], suite
    for run_id in ids:   # each run's results are its own, whole
        summary = json.loads((home / "quality" / "results" / run_id / "summary.json").read_text())
        assert summary["run_id"] == run_id and summary["success"]


def test_a_staff_file_met_during_a_run_is_imported_unchecked(app, tmp_path, caplog):
    from zhicheng.cli.main import app as cli
    rows = [["S1", "SUB-00001", "M01", "同意", ""]]
    path = write_csv(tmp_path / "ballots.csv", ["会议编号", "申报编号", "专家编号", "表决意见", "投票人"], rows)
    with exclusive(app.engine, quality.LOCK, now=app.clock.now()):
        assert file_checks.check_file(app, "ballots", path) is None
        r = CliRunner().invoke(cli, ["votes", "import", str(path)])
    assert "未做数据质量检查" in caplog.text and "导入照常进行" in caplog.text
    assert (r.exit_code, "S1" in r.output) == (2, True)   # the importer refuses as always
    assert not (app.settings.home / "gx" / "uncommitted" / "validations" / "file_ballots").exists()
    assert file_checks.check_file(app, "ballots", path)["success"]   # free again: checked
