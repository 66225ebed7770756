"""The votes and publicity verbs end to end on both engines (exit codes, output), and
the flows with their table artifacts."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from stage_data import COMMITTEE, application, employer, write_csv, write_xlsx
from zhicheng.cli.main import app as cli
from zhicheng.db.engine import unit_of_work

runner = CliRunner()


@pytest.fixture
def session_ready(app, tmp_path):
    roster = write_csv(tmp_path / "roster.csv", ["评委会编号", "专家编号", "姓名", "工作单位"],
                       [[COMMITTEE, f"M{i:02d}", f"专家{i:02d}", f"单位{i:02d}"] for i in range(1, 16)])
    assert runner.invoke(cli, ["votes", "import-roster", str(roster)]).exit_code == 0
    with unit_of_work(app.sessions) as s:
        e = employer(s, 3, "乙公司")
        application(s, app.config, n=1, stage="专家评审", employer_row=e)
        application(s, app.config, n=2, stage="评前公示", employer_row=e)
    book = write_xlsx(tmp_path / "session.xlsx", {
        "会议": (["会议编号", "评委会编号", "召开日期"], [["S1", COMMITTEE, "2026-06-10"]]),
        "议程": (["申报编号"], [["SUB-00001"]]),
        "出席": (["专家编号", "是否出席"], [[f"M{i:02d}", "是"] for i in range(1, 16)])})
    r = runner.invoke(cli, ["votes", "session-import", str(book), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["present"] == 15
    return app


def test_refused_ballot_file_exits_2_listing_rows(session_ready, tmp_path):
    bad = write_csv(tmp_path / "b.csv", ["会议编号", "申报编号", "专家编号", "表决意见"],
                    [["S1", "SUB-00001", "M01", "同意"], ["S1", "SUB-00001", "M02", "也许"],
                     ["S9", "SUB-00001", "M03", "同意"]])
    r = runner.invoke(cli, ["votes", "import", str(bad)])
    assert r.exit_code == 2
    assert "row 3:" in r.output and "row 4:" in r.output and "row 2:" not in r.output


def test_tally_dry_run_json_counts_only(session_ready, tmp_path):
    rows = [["S1", "SUB-00001", f"M{i:02d}", "同意" if i <= 10 else "弃权"] for i in range(1, 16)]
    f = write_csv(tmp_path / "b.csv", ["会议编号", "申报编号", "专家编号", "表决意见"], rows)
    assert runner.invoke(cli, ["votes", "import", str(f)]).exit_code == 0
    r = runner.invoke(cli, ["votes", "tally", "--session", "S1", "--dry-run", "--json",
                            "--report", str(tmp_path / "rep")])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    (t,) = doc["applications"]
    assert (t["present"], t["yes"], t["abstain"], t["threshold"], t["outcome"]) == (15, 10, 5, 10, "pass")
    assert "M01" not in r.output and (tmp_path / "rep" / "vote-session-S1.pdf").exists()
    plain = runner.invoke(cli, ["votes", "tally", "--session", "S1", "--dry-run"])
    assert "通过" in plain.output and "M01" not in plain.output
    assert runner.invoke(cli, ["votes", "tally", "--session", "NOPE", "--dry-run"]).exit_code == 2


def test_publicity_open_cli_and_uncovered_year(session_ready, tmp_path):
    r = runner.invoke(cli, ["publicity", "open", "--kind", "评前", "--committee", COMMITTEE,
                            "--as-of", "2026-09-29T10:00", "--out", str(tmp_path / "l"), "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert (doc["applications"], doc["closes_on"]) == (1, "2026-10-10")
    again = runner.invoke(cli, ["publicity", "open", "--kind", "评前", "--committee", COMMITTEE])
    assert again.exit_code == 0 and "no window opened" in again.output
    assert runner.invoke(cli, ["publicity", "open", "--kind", "单位", "--committee", COMMITTEE]).exit_code == 2
    r = runner.invoke(cli, ["publicity", "close-due", "--as-of", "2026-10-10T23:00", "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["closed_windows"] == []


def test_uncovered_year_exit_2_names_year(app, tmp_path):
    with unit_of_work(app.sessions) as s:
        application(s, app.config, n=1, stage="评后公示", employer_row=employer(s, 3, "乙公司"))
    r = runner.invoke(cli, ["publicity", "open", "--kind", "评后", "--committee", COMMITTEE,
                            "--as-of", "2035-03-01T10:00"])
    assert r.exit_code == 2 and "2035" in r.output


def test_flows_leave_table_artifacts(session_ready, tmp_path, prefect_harness):
    from prefect.artifacts import Artifact

    from zhicheng.flows.publicity import publicity_close_due
    from zhicheng.flows.votes import votes_tally
    rows = [["S1", "SUB-00001", f"M{i:02d}", "同意"] for i in range(1, 16)]
    runner.invoke(cli, ["votes", "import", str(write_csv(tmp_path / "b.csv",
                                                         ["会议编号", "申报编号", "专家编号", "表决意见"], rows))])
    result = votes_tally("S1", apply=False, as_of="2026-06-10T18:00:00+08:00")
    assert result["applications"][0]["outcome"] == "pass"
    artifact = Artifact.get("votes-s1")
    assert artifact is not None and "M01" not in str(artifact.data) and "15" in str(artifact.data)
    summary = publicity_close_due(as_of="2026-06-20T01:00:00+08:00")
    assert summary["closed_windows"] == [] and Artifact.get("publicity-close-due") is not None


def test_close_due_flow_moves_applications_on(session_ready, tmp_path, prefect_harness):
    pytest.importorskip("zhicheng.review.service")
    from sqlalchemy import select

    from zhicheng.db.models import Application
    from zhicheng.flows.publicity import publicity_close_due
    r = runner.invoke(cli, ["publicity", "open", "--kind", "评前", "--committee", COMMITTEE,
                            "--as-of", "2026-06-01T09:00", "--out", str(tmp_path / "l")])
    assert r.exit_code == 0, r.output
    assert publicity_close_due(as_of="2026-06-05T23:00:00+08:00")["closed_windows"] == []
    summary = publicity_close_due(as_of="2026-06-06T00:30:00+08:00", batch_year=2026)
    assert (len(summary["closed_windows"]), summary["passed"], summary["problems"]) == (1, 1, 0)
    assert publicity_close_due(as_of="2026-06-07T00:30:00+08:00")["passed"] == 0
    with session_ready.sessions() as s:
        stage = s.scalars(select(Application.stage).where(Application.submission_id == "SUB-00002")).one()
    assert stage == "专家评审"


def test_serve_schedules_close_due_daily():
    """`zhicheng serve` registers deployment_specs: close-due must be among them, daily
    (a window ending at 24:00 is closed the next night, whatever the weekday)."""
    from zhicheng.config import get_config
    from zhicheng.deployments import build_deployment, deployment_specs
    (spec,) = [s for s in deployment_specs(get_config(), from_year=2026) if s.name == "publicity-close-due"]
    assert spec.flow == "zhicheng.flows.publicity.publicity_close_due"
    (schedule,) = spec.schedules
    minute, hour, day, month, weekday = schedule.cron.split()
    assert (day, month, weekday) == ("*", "*", "*") and minute.isdigit() and hour.isdigit()
    assert build_deployment(spec, work_pool=None).name == "publicity-close-due"
