"""Staff files checked by great-expectations suites before import (issue 24), on both
engines, through the real import verbs: a bad file is refused by the importer exactly as
before, and its failing rows (masked, explained in Chinese) are in the GX project's
results and Data Docs; a good file passes; a team's own expectation on a file suite runs
on the next file; a broken check never stops an import."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stage_data import COMMITTEE, application, employer, write_csv, write_xlsx
from zhicheng.cli.main import app as cli
from zhicheng.db.engine import unit_of_work
from zhicheng.domain.identity import make_uscc
from zhicheng.expectations import runner as gx_runner
from zhicheng.files.tables import FileRefused
from zhicheng.votes import service as votes

runner = CliRunner()
BALLOT_HEADER = ["会议编号", "申报编号", "专家编号", "表决意见", "投票人"]
ROSTER_HEADER = ["评委会编号", "专家编号", "姓名", "工作单位", "统一社会信用代码", "状态"]


def _roster_rows(n: int = 15) -> list[list]:
    return [[COMMITTEE, f"M{i:02d}", f"欧阳专家{i:02d}", f"单位{i:02d}", "", "在任"] for i in range(1, n + 1)]


@pytest.fixture
def session_ready(app, tmp_path):
    roster = write_csv(tmp_path / "roster.csv", ROSTER_HEADER, _roster_rows())
    assert runner.invoke(cli, ["votes", "import-roster", str(roster)]).exit_code == 0
    with unit_of_work(app.sessions) as s:
        e = employer(s, 3, "乙公司")
        application(s, app.config, n=1, stage="专家评审", employer_row=e)
    book = write_xlsx(tmp_path / "session.xlsx", {
        "会议": (["会议编号", "评委会编号", "召开日期"], [["S1", COMMITTEE, "2026-06-10"]]),
        "议程": (["申报编号"], [["SUB-00001"]]),
        "出席": (["专家编号", "是否出席"], [[f"M{i:02d}", "是"] for i in range(1, 16)])})
    r = runner.invoke(cli, ["votes", "session-import", str(book)])
    assert r.exit_code == 0, r.output
    return app


def results(home: Path, suite: str, file_name: str) -> list[dict]:
    """The checks of the one stored result of `suite` for the file of that name."""
    docs = [p for p in (home / "gx" / "uncommitted" / "validations" / suite).rglob("*.json")
            if p.parent.parent.name.endswith("-" + file_name)]
    assert len(docs) == 1, docs
    return gx_runner.check_results(json.loads(docs[0].read_text()))


def by_check(checks: list[dict]) -> dict[str, dict]:
    return {c["check"]: c for c in checks}


def everything_written(home: Path) -> str:
    """Every file of the GX project and the Data Docs site, as text."""
    return "\n".join(p.read_text(errors="replace") for d in ("gx", "quality")
                     for p in (home / d).rglob("*") if p.is_file() and p.suffix in (".json", ".html", ".yml"))


def test_bad_ballots_refused_as_before_and_failing_rows_in_data_docs(session_ready, tmp_path):
    app = session_ready
    rows = [["S1", "SUB-00001", "M01", "同意", ""], ["S1", "SUB-00001", "M02", "也许", ""],
            ["S9", "SUB-00001", "M03", "同意", ""], ["S1", "SUB-00001", "M01", "同意", ""],
            ["S1", "", "M04", "弃权", ""]]
    bad = write_csv(tmp_path / "ballots-bad.csv", BALLOT_HEADER, rows)
    with unit_of_work(app.sessions) as s, pytest.raises(FileRefused) as refused:
        votes.import_ballots(session=s, path=bad, config=app.config)
    r = runner.invoke(cli, ["votes", "import", str(bad)])
    assert r.exit_code == 2
    assert str(refused.value) in r.output        # the importer's own refusal, word for word

    checks = by_check(results(app.settings.home, "file_ballots", bad.name))
    assert not checks["vote_in_domain"]["success"]
    assert checks["vote_in_domain"]["rows"] == [
        {"行号": 3, "会议编号": "S1", "申报编号": "SUB-00001", "专家编号": "M02",
         "问题": "表决意见不是 同意、不同意、弃权、空白 之一"}]
    assert (checks["vote_in_domain"]["unexpected_count"], checks["vote_in_domain"]["checked"]) == (1, 5)
    assert [x["行号"] for x in checks["one_ballot_per_expert_and_application"]["rows"]] == [5]
    assert checks["one_ballot_per_expert_and_application"]["rows"][0]["问题"].startswith("与第 2 行")
    assert [(x["行号"], x["问题"]) for x in checks["required_filled"]["rows"]] == [(6, "申报编号 为空")]
    assert checks["application_id_is_text"]["success"]

    written = everything_written(app.settings.home)
    assert "也许" not in written                   # the vote is secret, even a bad one
    page = next((app.settings.home / "quality" / "validations" / "file_ballots").rglob("*.html")).read_text()
    assert "1 行不符合（检查 5 行）" in page and "M02" in page and "表决意见不是" in page
    index = (app.settings.home / "quality" / "index.html").read_text()
    assert "file_ballots" in index and bad.name in index
    # offline: nothing loaded from the internet (a link to GX's site is only a link)
    assert not re.search(r"""src=["']https?://|<link[^>]+href=["']https?://""", page + index)


def test_good_ballots_pass_and_are_imported(session_ready, tmp_path):
    good = write_csv(tmp_path / "ballots-good.csv", BALLOT_HEADER,
                     [["S1", "SUB-00001", f"M{i:02d}", "同意", ""] for i in range(1, 16)])
    r = runner.invoke(cli, ["votes", "import", str(good), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == {"rows": 15, "stored": 15, "already_stored": 0}
    checks = results(session_ready.settings.home, "file_ballots", good.name)
    assert checks and all(c["success"] and c["checked"] == 15 and not c["rows"] for c in checks)


def test_roster_rows_show_names_masked(app, tmp_path):
    uscc = make_uscc("91", "321200", "00000003")
    rows = _roster_rows(3)
    rows[1][4] = uscc[:17] + ("0" if uscc[17] != "0" else "1")   # a wrong check character
    rows[2][5] = "退休"
    bad = write_csv(tmp_path / "roster-bad.csv", ROSTER_HEADER, rows)
    r = runner.invoke(cli, ["votes", "import-roster", str(bad)])
    assert r.exit_code == 2 and "row 3:" in r.output and "row 4:" in r.output
    checks = by_check(results(app.settings.home, "file_roster", bad.name))
    (row,) = checks["employer_uscc_valid"]["rows"]
    assert (row["行号"], row["姓名"]) == (3, "欧****2")
    assert row["问题"].endswith("无效（校验码不符）")
    assert checks["state_known"]["rows"][0]["问题"] == "状态 退休 应为 在任 或 停用"
    assert "欧阳专家" not in everything_written(app.settings.home)


def test_session_workbook_checked_sheet_by_sheet(app, tmp_path):
    book = write_xlsx(tmp_path / "session-bad.xlsx", {
        "会议": (["会议编号", "评委会编号", "召开日期", "委员人数"], [["S1", "NOPE", "6月10日", "14"]]),
        "议程": (["申报编号"], [["SUB-00001"], ["SUB-00001"]]),
        "出席": (["专家编号", "是否出席"], [["M01", "到"]])})
    assert runner.invoke(cli, ["votes", "session-import", str(book)]).exit_code == 2
    home = app.settings.home
    meeting = by_check(results(home, "file_session_meeting", book.name))
    assert {n for n, c in meeting.items() if not c["success"]} == {"committee_known", "held_on_is_date",
                                                                   "members_odd"}
    agenda = by_check(results(home, "file_session_agenda", book.name))
    assert agenda["application_once"]["rows"][0]["行号"] == 3
    attendance = by_check(results(home, "file_session_attendance", book.name))
    assert attendance["attendance_word"]["rows"][0]["问题"] == "是否出席 到 应为 是 或 否"
    assert not (home / "gx" / "uncommitted" / "validations" / "file_session_recusals").exists()


def test_review_decisions_file_checked_with_officers_masked(app, tmp_path):
    header = ["申报编号", "姓名", "环节", "处理结果", "意见", "经办人", "处理单位", "处理时间"]
    bad = write_csv(tmp_path / "decisions-bad.csv", header, [
        ["3.2E+17", "申报人001", "市单位审核、公示", "同意推荐", "", "王芳芳", "某处", "46176"],
        ["JS2026000002", "", "专家评审", "通过", "", "王芳芳", "某处", "2026-06-02 09:30"]])
    r = runner.invoke(cli, ["review", "import", str(bad), "--as-of", "2026-06-05T18:00"])
    assert r.exit_code == 2 and "row 2:" in r.output
    checks = by_check(results(app.settings.home, "file_decisions", bad.name))
    failed = {n: [x["行号"] for x in c["rows"]] for n, c in checks.items() if not c["success"]}
    assert failed == {"result_known": [2], "decided_at_is_time": [2], "application_id_is_text": [2],
                      "stage_is_review": [3]}
    assert "王芳芳" not in everything_written(app.settings.home)


def test_objections_file_checked(app, tmp_path):
    header = ["公示编号", "申报编号", "异议时间", "异议内容", "异议编号", "处理结果", "处理时间", "处理理由"]
    bad = write_csv(tmp_path / "objections-bad.csv", header, [
        ["1", "SUB-00001", "2026-06-03 10:00", "论文造假 320102199001010011", "", "", "", ""],
        ["1", "SUB-00002", "昨天", "", "", "", "", ""],
        ["1", "SUB-00003", "", "", "x7", "成立", "", ""]])
    assert runner.invoke(cli, ["publicity", "objections", "import", str(bad)]).exit_code == 2
    checks = by_check(results(app.settings.home, "file_objections", bad.name))
    failed = {n: [x["行号"] for x in c["rows"]] for n, c in checks.items() if not c["success"]}
    assert failed == {"new_objection_complete": [3], "lodged_at_is_time": [3], "upheld_has_reason": [4],
                      "objection_id_is_number": [4]}
    assert "320102199001010011" not in everything_written(app.settings.home)


TEAM_SCRIPT = """
import sys
import great_expectations as gx
import zhicheng.expectations.gx  # zhicheng's expectations, as GX plugins
ctx = gx.get_context(mode="file", project_root_dir=sys.argv[1])
suite = ctx.suites.get("file_ballots")
suite.add_expectation(gx.expectations.ExpectColumnValuesToNotBeNull(column="投票人", description="由本人投票（团队）"))
suite.save()
"""


def test_a_team_expectation_on_a_file_suite_runs_on_the_next_file(session_ready, tmp_path):
    import subprocess
    import sys
    home = session_ready.settings.home
    first = write_csv(tmp_path / "ballots-1.csv", BALLOT_HEADER, [["S1", "SUB-00001", "M01", "同意", ""]])
    assert runner.invoke(cli, ["votes", "import", str(first)]).exit_code == 0
    done = subprocess.run([sys.executable, "-c", TEAM_SCRIPT, str(home)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    second = write_csv(tmp_path / "ballots-2.csv", BALLOT_HEADER,
                       [["S1", "SUB-00001", "M02", "同意", "欧阳某"], ["S1", "SUB-00001", "M03", "同意", ""]])
    assert runner.invoke(cli, ["votes", "import", str(second)]).exit_code == 0
    checks = by_check(results(home, "file_ballots", second.name))
    team = checks["expect_column_values_to_not_be_null(投票人)"]
    assert (team["team"], team["success"], team["unexpected_count"]) == (True, False, 1)
    assert team["rows"] == []                       # a team's built-in keeps counts, no values
    assert checks["vote_in_domain"]["success"] and not checks["vote_in_domain"]["team"]


def test_a_broken_check_never_stops_the_import(session_ready, tmp_path):
    home = session_ready.settings.home
    good = write_csv(tmp_path / "ballots-ok.csv", BALLOT_HEADER, [["S1", "SUB-00001", "M05", "同意", ""]])
    import shutil
    shutil.rmtree(home / "gx", ignore_errors=True)
    (home / "gx").write_text("not a folder")          # the GX project cannot be opened
    r = runner.invoke(cli, ["votes", "import", str(good)])
    assert r.exit_code == 0, r.output
    assert r.stdout.strip().endswith("1 ballots: 1 stored, 0 already stored")


def test_file_checks_are_kept_over_time_with_the_change_since_the_last_file_of_that_kind(app, tmp_path):
    from zhicheng.expectations import history
    from zhicheng.quality import file_checks

    def ballots(name: str, votes: list[str]) -> Path:
        return write_csv(tmp_path / name, BALLOT_HEADER,
                         [["S1", "SUB-00001", f"M{i:02d}", v, ""] for i, v in enumerate(votes, 1)])

    first = file_checks.run_checks(app, "ballots", ballots("一月选票.csv", ["也许", "同意", "可以", "同意"]))
    vote = first["suites"]["file_ballots"]["checks"]
    (first_vote,) = [c for c in vote if c["check"] == "vote_in_domain"]
    assert (first_vote["unexpected_count"], first_vote["previous"], first_vote["change"]) == (2, None, None)
    roster = write_csv(tmp_path / "roster.csv", ROSTER_HEADER, _roster_rows(3))
    file_checks.run_checks(app, "roster", roster)            # another kind: not compared with
    second = file_checks.run_checks(app, "ballots", ballots("二月选票.csv", ["同意", "弃权", "好"]))
    checks = by_check(second["suites"]["file_ballots"]["checks"])
    assert (checks["vote_in_domain"]["previous"], checks["vote_in_domain"]["change"]) == (2, -1)
    assert (checks["required_filled"]["previous"], checks["required_filled"]["change"]) == (0, 0)
    kept = json.loads((app.settings.home / "quality" / "results" / second["run_id"] / "summary.json").read_text())
    assert kept["file"] == "二月选票.csv" and kept["suites"] == json.loads(json.dumps(second["suites"]))

    h = history.frame(app, suite="file_ballots")      # charted as the registry's results are
    assert sorted(set(h.file_name)) == ["一月选票.csv", "二月选票.csv"]
    assert set(h.run_id) == {first["run_id"], second["run_id"]}
    failed = h[~h.success].pivot_table(index=h.run_at.dt.date, columns="check", values="unexpected_count",
                                       aggfunc="sum")
    assert failed["vote_in_domain"].tolist() == [3]   # one day, two files: 2 + 1
    roster_rows = history.frame(app, suite="file_roster")
    assert set(roster_rows.file_name) == {"roster.csv"} and roster_rows.success.all()
