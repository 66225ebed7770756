"""取消申请 while on a publicity window or a vote's agenda (issue 22), on both engines:
the application leaves them with its entry marked withdrawn (kept on the record),
closing the window and the tally settle it without a decision or a problem, the session
completes, the reports say 已撤回（取消申请）, and the quality checks pass."""
from __future__ import annotations

import datetime as dt
import json

import openpyxl
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from stage_data import COMMITTEE, application, employer, write_csv, write_xlsx
from zhicheng.cli.main import app as cli
from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import Application
from zhicheng.intake import cancellation
from zhicheng.publicity import service as publicity
from zhicheng.publicity.models import PublicityEntry
from zhicheng.quality import service as quality
from zhicheng.review.models import Decision
from zhicheng.votes import service as votes
from zhicheng.votes.models import AgendaItem, VotingSession
from zhicheng.votes.reports import write_session_report
from zhicheng.workspace import working_calendar

SESSION = "TZ-2026-W1"


def _cancel(app, sid: str, n: int = 1) -> bool:
    item = {"submission_id": sid, "cancellation_id": f"CAN-{n:04d}", "requested_at": "2026-06-02 10:00"}
    with unit_of_work(app.sessions) as s:
        return cancellation.decide(session=s, item=item, config=app.config, now=app.clock.now())


def _decisions(app, sid: str) -> list[tuple[str, str, str]]:
    with app.sessions() as s:
        return [(d.stage, d.action, d.actor) for d in s.scalars(
            select(Decision).join(Application, Application.id == Decision.application_id)
            .where(Application.submission_id == sid).order_by(Decision.id))]


def _assert_quality_passes(app, but: tuple[str, ...] = ()) -> None:
    report = quality.run(app=app)
    failed = [f for f in quality.failures(report) if f["suite"] not in but]
    assert not failed, failed


def _entries(app) -> dict[str, str]:
    with app.sessions() as s:
        return dict(s.execute(select(Application.submission_id, PublicityEntry.outcome).join(
            PublicityEntry, PublicityEntry.application_id == Application.id)).all())


def test_withdrawn_on_an_open_window_then_the_window_closes_cleanly(app, tmp_path, monkeypatch):
    with unit_of_work(app.sessions) as s:
        e = employer(s, 7, "泰州市第一建筑公司")
        for n in (1, 2, 3):
            application(s, app.config, n=n, stage="评前公示", employer_row=e)
    with unit_of_work(app.sessions) as s:                  # Monday 2026-06-01: a window of 5 working days
        window = publicity.open_window(session=s, kind="评前", committee_id=COMMITTEE, config=app.config,
                                       calendar=working_calendar(app.config.directory), now=app.clock.now(),
                                       out_dir=tmp_path / "lists")["window"]
    app.clock.set(dt.datetime(2026, 6, 2, 10, 0))
    assert _cancel(app, "SUB-00002")
    assert _entries(app) == {"SUB-00001": "pending", "SUB-00002": "withdrawn", "SUB-00003": "pending"}
    # SUB-00003 was withdrawn by a release before this one: its entry was left pending
    with unit_of_work(app.sessions) as s:
        s.scalars(select(Application).where(Application.submission_id == "SUB-00003")).one().status = "withdrawn"
    lodge = write_csv(tmp_path / "obj.csv", ["公示编号", "申报编号", "异议时间", "异议内容"],
                      [[window, "SUB-00003", "2026-06-03 10:00", "业绩不实"]])
    with unit_of_work(app.sessions) as s:
        publicity.import_objections(session=s, path=lodge, config=app.config, now=app.clock.now())

    app.clock.set(dt.datetime(2026, 6, 6, 0, 30))
    r = json.loads(CliRunner().invoke(cli, ["publicity", "close-due", "--as-of", "2026-06-06T00:30", "--json"]).stdout)
    assert (r["closed_windows"], r["passed"], r["held"], r["withdrawn"], r["problems"]) == ([window], 1, 0, 1, 0)
    again = CliRunner().invoke(cli, ["publicity", "close-due", "--as-of", "2026-06-06T00:40"])
    assert again.exit_code == 0, again.output                # every later run: nothing left, no problem
    assert "已撤回（取消申请） 0 件，未能推进（见日志） 0 件" in again.output
    from zhicheng.cli.output import console
    monkeypatch.setattr(console, "width", 160)   # made once per process: COLUMNS may be fixed already
    listed = CliRunner().invoke(cli, ["publicity", "list"])
    assert "公示通过 1，已撤回（取消申请） 2" in listed.output, listed.output
    (shown,) = json.loads(CliRunner().invoke(cli, ["publicity", "list", "--json"]).output)
    assert shown["entries"] == {"passed": 1, "withdrawn": 2}
    assert _entries(app) == {"SUB-00001": "passed", "SUB-00002": "withdrawn", "SUB-00003": "withdrawn"}
    assert _decisions(app, "SUB-00002") == [("评前公示", "withdraw", "申请人")]   # nothing decided for it
    assert _decisions(app, "SUB-00003") == []
    assert _decisions(app, "SUB-00001") == [("评前公示", "approve", "system")]
    _assert_quality_passes(app, but=("outbox",))   # the notices are still queued: nobody pushed


def roster_file(tmp_path):
    rows = [[COMMITTEE, f"M{i:02d}", f"专家{i:02d}", f"单位{i:02d}", "", "在任"] for i in range(1, 12)]
    return write_csv(tmp_path / "roster.csv", ["评委会编号", "专家编号", "姓名", "工作单位",
                                                "统一社会信用代码", "状态"], rows)


def _ballots(app, tmp_path, subs: list[int], duplicate: int | None = None) -> None:
    rows = [[SESSION, f"SUB-{n:05d}", f"M{m:02d}", "同意", ""] for n in subs for m in range(1, 12)]
    if duplicate is not None:
        rows.append([SESSION, f"SUB-{duplicate:05d}", "M05", "不同意", ""])
    path = write_csv(tmp_path / "ballots.csv", ["会议编号", "申报编号", "专家编号", "表决意见", "投票人"], rows)
    with unit_of_work(app.sessions) as s:
        votes.import_ballots(session=s, path=path, config=app.config)


def _tally(app) -> dict:
    with unit_of_work(app.sessions) as s:
        return votes.apply_tally(session=s, session_code=SESSION, config=app.config, now=app.clock.now())


@pytest.fixture
def voting(app, tmp_path):
    """11 members, all present; SUB-00001..3 on the agenda of one session."""
    with unit_of_work(app.sessions) as s:
        votes.import_roster(session=s, path=roster_file(tmp_path), config=app.config)
        e = employer(s, 2, "甲公司")
        for n in (1, 2, 3):
            application(s, app.config, n=n, stage="专家评审", employer_row=e)
    book = write_xlsx(tmp_path / "session.xlsx", {
        "会议": (["会议编号", "评委会编号", "召开日期", "委员人数"], [[SESSION, COMMITTEE, "2026-06-10", "11"]]),
        "议程": (["申报编号"], [["SUB-00001"], ["SUB-00002"], ["SUB-00003"]]),
        "出席": (["专家编号", "是否出席"], [[f"M{i:02d}", "是"] for i in range(1, 12)])})
    with unit_of_work(app.sessions) as s:
        votes.import_session(session=s, path=book, config=app.config)
    return app


def _session_status(app) -> str:
    with app.sessions() as s:
        return s.scalars(select(VotingSession.status).where(VotingSession.code == SESSION)).one()


def test_withdrawn_on_an_agenda_then_the_tally_completes_the_session(voting, tmp_path):
    app = voting
    _ballots(app, tmp_path, [1, 2, 3])        # the ballots of SUB-00002 are in before it withdraws
    assert _cancel(app, "SUB-00002")
    # SUB-00003 was withdrawn by a release before this one: its agenda item was left open
    with unit_of_work(app.sessions) as s:
        s.scalars(select(Application).where(Application.submission_id == "SUB-00003")).one().status = "withdrawn"
    r = _tally(app)
    by = {t["application"]: t for t in r["applications"]}
    assert {k: t["outcome"] for k, t in by.items()} == {"SUB-00001": "pass", "SUB-00002": "withdrawn",
                                                        "SUB-00003": "withdrawn"}
    assert (r["decided"], r["withdrawn"], r["decide_problems"], r["anomalies"]) == \
        (["SUB-00001"], ["SUB-00003"], [], [])
    assert _session_status(app) == "tallied"
    again = _tally(app)
    assert (again["decided"], again["withdrawn"], again["decide_problems"]) == ([], [], [])
    with app.sessions() as s:
        items = dict(s.execute(select(Application.submission_id, AgendaItem.outcome).join(
            AgendaItem, AgendaItem.application_id == Application.id)).all())
        assert s.scalar(select(func.count(AgendaItem.id))) == 3
    assert items == {"SUB-00001": "pass", "SUB-00002": "withdrawn", "SUB-00003": "withdrawn"}
    assert _decisions(app, "SUB-00002") == [("专家评审", "withdraw", "申请人")]
    assert _decisions(app, "SUB-00003") == []
    with app.sessions() as s:
        paths = write_session_report(session=s, result=again, config=app.config, out_dir=tmp_path / "report")
    sheet = openpyxl.load_workbook(paths["xlsx"])["表决结果"]
    results = {row[0]: row[-1] for row in sheet.iter_rows(values_only=True) if str(row[0]).startswith("SUB-")}
    assert results == {"SUB-00001": "通过", "SUB-00002": "已撤回（取消申请）", "SUB-00003": "已撤回（取消申请）"}
    _assert_quality_passes(app)


def test_the_last_open_item_withdrawn_lets_the_session_complete(voting, tmp_path):
    app = voting
    _ballots(app, tmp_path, [1, 2, 3], duplicate=3)   # SUB-00003 withheld by an anomaly
    r = _tally(app)
    assert (r["decided"], [a["code"] for a in r["anomalies"]]) == (["SUB-00001", "SUB-00002"], ["duplicate_ballot"])
    assert _session_status(app) == "open"
    assert _cancel(app, "SUB-00003")          # its applicant cancels before anyone voids a ballot
    late = write_csv(tmp_path / "late.csv", ["会议编号", "申报编号", "专家编号", "表决意见"],
                     [[SESSION, "SUB-00003", "M06", "同意"]])
    with unit_of_work(app.sessions) as s:     # a file with its ballots is not refused for them
        assert votes.import_ballots(session=s, path=late, config=app.config)["stored"] == 1
    r = _tally(app)
    assert (r["decided"], r["decide_problems"], r["anomalies"]) == ([], [], [])   # nobody needs to act
    assert _session_status(app) == "tallied"
