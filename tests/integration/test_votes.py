"""Votes on both engines: roster, session, ballot import (refusal lists rows), tally,
outcomes through the review service, the session report (counts only)."""
from __future__ import annotations

import dataclasses
import json

import pytest
from sqlalchemy import func, select

from stage_data import (COMMITTEE, application, assert_chinese_font_embedded, employer, write_csv,
                        write_xlsx)
from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import CommitteeMember
from zhicheng.files.tables import FileRefused
from zhicheng.votes import service as votes
from zhicheng.votes.models import Ballot, Recusal

BALLOT_HEADER = ["会议编号", "申报编号", "专家编号", "表决意见", "投票人"]
SESSION = "TZ-2026-01"


def roster_file(tmp_path):
    rows = [[COMMITTEE, f"M{i:02d}", f"专家{i:02d}", "泰州电力公司" if i == 1 else f"单位{i:02d}", "", "在任"]
            for i in range(1, 16)]
    return write_csv(tmp_path / "roster.csv", ["评委会编号", "专家编号", "姓名", "工作单位",
                                                "统一社会信用代码", "状态"], rows)


@pytest.fixture
def voting(app, tmp_path):
    """15 members, 12 present (M13-M15 absent); three applications at 专家评审."""
    with unit_of_work(app.sessions) as s:
        assert votes.import_roster(session=s, path=roster_file(tmp_path), config=app.config)["created"] == 15
        power, other = employer(s, 1, "泰州电力公司"), employer(s, 2, "甲公司")
        for n, emp in ((1, power), (2, other), (3, other)):
            application(s, app.config, n=n, stage="专家评审", employer_row=emp)
        application(s, app.config, n=4, stage="评前公示", employer_row=other)
    book = write_xlsx(tmp_path / "session.xlsx", {
        "会议": (["会议编号", "评委会编号", "召开日期"], [[SESSION, COMMITTEE, "2026-06-10"]]),
        "议程": (["申报编号"], [["SUB-00001"], ["SUB-00002"], ["SUB-00003"]]),
        "出席": (["专家编号", "是否出席"], [[f"M{i:02d}", "是" if i <= 12 else "否"] for i in range(1, 16)]),
        "回避": (["专家编号", "申报编号", "原因"], [["M02", "SUB-00002", "亲属关系"]]),
    })
    with unit_of_work(app.sessions) as s:
        r = votes.import_session(session=s, path=book, config=app.config)
    assert r == {"session": SESSION, "committee": COMMITTEE, "members_total": 15, "agenda": 3,
                 "present": 12, "recusals": 2}
    return app


def ballots_for(app_no: int, yes: int, members: range) -> list[list]:
    return [[SESSION, f"SUB-{app_no:05d}", f"M{m:02d}", "同意" if i < yes else "不同意", ""]
            for i, m in enumerate(members)]


def test_roster_refused_whole_listing_every_bad_row(app, tmp_path):
    bad = write_csv(tmp_path / "roster.csv", ["评委会编号", "专家编号", "姓名", "工作单位", "统一社会信用代码"], [
        [COMMITTEE, "M01", "专家01", "甲", ""],
        ["NO-SUCH", "M02", "专家02", "乙", ""],
        [COMMITTEE, "M01", "专家01b", "甲", ""],
        [COMMITTEE, "M04", "", "丁", "123"]])
    with unit_of_work(app.sessions) as s, pytest.raises(FileRefused) as err:
        votes.import_roster(session=s, path=bad, config=app.config)
    assert [r for r, _ in err.value.problems] == [3, 4, 5, 5]
    with app.sessions() as s:
        assert s.scalar(select(func.count(CommitteeMember.id))) == 0


def test_session_recusals_recorded(voting):
    with voting.sessions() as s:
        reasons = sorted(r.reason for r in s.scalars(select(Recusal)))
    assert reasons == ["与申报人同一工作单位", "本人申报回避：亲属关系"]


def test_session_refuses_application_not_at_vote_stage(voting, tmp_path):
    book = write_xlsx(tmp_path / "s2.xlsx", {
        "会议": (["会议编号", "评委会编号", "召开日期"], [["TZ-2026-02", COMMITTEE, "2026-06-11"]]),
        "议程": (["申报编号"], [["SUB-00004"], ["SUB-09999"]]),
        "出席": (["专家编号", "是否出席"], [["M01", "是"], ["X99", "是"]])})
    with unit_of_work(voting.sessions) as s, pytest.raises(FileRefused) as err:
        votes.import_session(session=s, path=book, config=voting.config)
    text = str(err.value)
    assert "row 2: 议程: 申报 SUB-00004 不在专家评审环节" in text and "SUB-09999 不存在" in text
    assert "X99" in text


def test_ballot_file_with_bad_rows_is_refused_whole(voting, tmp_path):
    rows = ballots_for(1, 8, range(2, 13))
    rows[1][3] = "赞成"          # row 3
    rows[3][2] = "M99"           # row 5
    bad = write_csv(tmp_path / "ballots.csv", BALLOT_HEADER, rows)
    with unit_of_work(voting.sessions) as s, pytest.raises(FileRefused) as err:
        votes.import_ballots(session=s, path=bad, config=voting.config)
    assert [r for r, _ in err.value.problems] == [3, 5]
    with voting.sessions() as s:
        assert s.scalar(select(func.count(Ballot.id))) == 0


def test_ballot_sheet_whose_dimension_tag_lies_imports_every_row(voting, tmp_path):
    """The tag says A1:D3 (two ballots); openpyxl's read-only mode read only those."""
    from crafted_xlsx import set_dimension
    rows = ballots_for(1, 8, range(2, 12))
    path = set_dimension(write_xlsx(tmp_path / "ballots.xlsx", {"选票": (BALLOT_HEADER, rows)}), "A1:D3")
    with unit_of_work(voting.sessions) as s:
        r = votes.import_ballots(session=s, path=path, config=voting.config)
    assert (r["rows"], r["stored"]) == (10, 10)


def test_ballot_sheet_beyond_a_limit_applies_nothing(voting, tmp_path):
    from crafted_xlsx import add_cell
    path = add_cell(write_xlsx(tmp_path / "ballots.xlsx", {"选票": (BALLOT_HEADER, ballots_for(1, 8, range(2, 12)))}),
                    "XFD12", "x")
    with unit_of_work(voting.sessions) as s, pytest.raises(FileRefused, match="ballots.xlsx.*\n.*row 12:.*column XFD"):
        votes.import_ballots(session=s, path=path, config=voting.config)
    with voting.sessions() as s:
        assert s.scalar(select(func.count(Ballot.id))) == 0


def _import(app, tmp_path, rows, name="ballots.csv", config=None):
    with unit_of_work(app.sessions) as s:
        return votes.import_ballots(session=s, path=write_csv(tmp_path / name, BALLOT_HEADER, rows),
                                    config=config or app.config)


def test_tally_thresholds_and_duplicate_anomaly(voting, tmp_path):
    # SUB-1: M01 recused (same employer): 11 count, 8 yes >= 22/3 -> pass
    # SUB-2: M02 recused (declared): 11 count, 7 yes -> fail
    # SUB-3: 12 count, 12 yes, but M05 voted twice -> withheld
    rows = (ballots_for(1, 8, range(2, 13)) + ballots_for(2, 7, [1, *range(3, 13)])
            + ballots_for(3, 12, range(1, 13)) + [[SESSION, "SUB-00003", "M05", "不同意", ""]])
    assert _import(voting, tmp_path, rows)["stored"] == 35
    assert _import(voting, tmp_path, rows)["already_stored"] == 35     # re-import harmless
    with voting.sessions() as s:
        result = votes.tally(session=s, session_code=SESSION, config=voting.config)
    by = {t["application"]: t for t in result["applications"]}
    assert (by["SUB-00001"]["present"], by["SUB-00001"]["recused"], by["SUB-00001"]["yes"],
            by["SUB-00001"]["threshold"], by["SUB-00001"]["outcome"]) == (11, 1, 8, 8, "pass")
    assert (by["SUB-00002"]["yes"], by["SUB-00002"]["no"], by["SUB-00002"]["outcome"]) == (7, 4, "fail")
    assert by["SUB-00003"]["outcome"] is None
    (dup,) = result["anomalies"]
    assert dup["code"] == "duplicate_ballot" and dup["rows"] == [28, 36]
    # counts only: the document never pairs an expert with a vote
    doc = json.dumps(result, ensure_ascii=False)
    assert "同意" not in doc and "M03" not in doc


def test_a_sessions_ballots_split_as_the_row_limit_asks_tally_as_one_file(voting, tmp_path):
    """A province's session can hold more ballots than imports.max_rows allows a file
    (the 100,000 demo's did): staff split them, and the files tally as one would."""
    from zhicheng.demo.staff import sheet_files
    rows = (ballots_for(1, 8, range(2, 13)) + ballots_for(2, 7, [1, *range(3, 13)])
            + ballots_for(3, 12, range(1, 13)))
    policy = voting.config.policy
    limited = dataclasses.replace(voting.config, policy=policy.model_copy(update={
        "imports": policy.imports.model_copy(update={"max_rows": 10})}))
    with pytest.raises(FileRefused, match="split the file"):
        _import(voting, tmp_path, rows, config=limited)
    parts = sheet_files(rows, 10)   # the column names take a row of each file's ten
    assert [len(p) for p in parts] == [9, 9, 9, 7] and [r for p in parts for r in p] == rows
    assert sum(_import(voting, tmp_path, part, name=f"ballots-{n}.csv", config=limited)["stored"]
               for n, part in enumerate(parts)) == 34
    with voting.sessions() as s:
        result = votes.tally(session=s, session_code=SESSION, config=voting.config)
    by = {t["application"]: (t["present"], t["yes"], t["outcome"]) for t in result["applications"]}
    assert by == {"SUB-00001": (11, 8, "pass"), "SUB-00002": (11, 7, "fail"), "SUB-00003": (12, 12, "pass")}
    assert result["anomalies"] == []


def test_absent_and_proxy_ballots_are_anomalies(voting, tmp_path):
    rows = ballots_for(3, 12, range(1, 13)) + [[SESSION, "SUB-00003", "M14", "同意", ""]]
    rows[0][4] = "M07"     # M01's ballot put in by M07
    _import(voting, tmp_path, rows)
    with voting.sessions() as s:
        result = votes.tally(session=s, session_code=SESSION, config=voting.config)
    assert sorted(a["code"] for a in result["anomalies"]) == ["absent_ballot", "proxy_ballot"]
    assert result["applications"][2]["outcome"] is None


def test_session_without_quorum_gives_no_outcome(app, tmp_path):
    with unit_of_work(app.sessions) as s:
        votes.import_roster(session=s, path=roster_file(tmp_path), config=app.config)
        application(s, app.config, n=1, stage="专家评审", employer_row=employer(s, 2, "甲公司"))
    book = write_xlsx(tmp_path / "session.xlsx", {
        "会议": (["会议编号", "评委会编号", "召开日期"], [[SESSION, COMMITTEE, "2026-06-10"]]),
        "议程": (["申报编号"], [["SUB-00001"]]),
        "出席": (["专家编号", "是否出席"], [[f"M{i:02d}", "是" if i <= 9 else "否"] for i in range(1, 16)])})
    with unit_of_work(app.sessions) as s:
        votes.import_session(session=s, path=book, config=app.config)
    _import(app, tmp_path, ballots_for(1, 9, range(1, 10)))
    with app.sessions() as s:
        result = votes.tally(session=s, session_code=SESSION, config=app.config)
    assert (result["present"], result["quorum_needed"], result["quorum"]) == (9, 10, False)
    assert result["applications"][0]["outcome"] is None
    assert [a["code"] for a in result["anomalies"]] == ["no_quorum"]


def test_apply_moves_applications_and_void_resolves(voting, tmp_path):
    pytest.importorskip("zhicheng.review.service")
    from zhicheng.db.models import Application
    from zhicheng.review.models import Decision
    rows = (ballots_for(1, 8, range(2, 13)) + ballots_for(2, 7, [1, *range(3, 13)])
            + ballots_for(3, 12, range(1, 13)) + [[SESSION, "SUB-00003", "M05", "不同意", ""]])
    _import(voting, tmp_path, rows)
    now = voting.clock.now()
    with unit_of_work(voting.sessions) as s:
        result = votes.apply_tally(session=s, session_code=SESSION, config=voting.config, now=now)
    assert result["decided"] == ["SUB-00001", "SUB-00002"] and not result["decide_problems"]
    with unit_of_work(voting.sessions) as s:   # again: nothing decided twice
        assert votes.apply_tally(session=s, session_code=SESSION, config=voting.config, now=now)["decided"] == []
    with unit_of_work(voting.sessions) as s:
        assert votes.void_ballots(session=s, session_code=SESSION, source_file="ballots.csv", rows=[36],
                                  reason="重复投票，以第28行为准", now=now) == 1
        applied = votes.apply_tally(session=s, session_code=SESSION, config=voting.config, now=now)
        assert applied["decided"] == ["SUB-00003"]
    with voting.sessions() as s:
        apps = {a.submission_id: a for a in s.scalars(select(Application))}
        decisions = list(s.scalars(select(Decision).where(Decision.stage == "专家评审")))
    assert apps["SUB-00001"].stage == "评后公示" and apps["SUB-00003"].stage == "评后公示"
    assert apps["SUB-00002"].status == "rejected"
    assert len(decisions) == 3 and {d.actor for d in decisions} == {"system"}


def test_session_report_has_counts_not_votes(voting, tmp_path):
    import openpyxl
    import pymupdf
    from zhicheng.votes.reports import write_session_report
    _import(voting, tmp_path, ballots_for(1, 8, range(2, 13)))
    with voting.sessions() as s:
        result = votes.tally(session=s, session_code=SESSION, config=voting.config)
        paths = write_session_report(session=s, result=result, config=voting.config, out_dir=tmp_path / "out")
    wb = openpyxl.load_workbook(paths["xlsx"])
    cells = [str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if c]
    assert "申报人001" in cells and "通过" in cells
    assert not any(c.startswith("M0") or c.startswith("专家0") for c in cells)
    doc = pymupdf.open(paths["pdf"])
    text = "".join(p.get_text() for p in doc)
    assert "申报人001" in text and "专家0" not in text
    assert_chinese_font_embedded(doc)
