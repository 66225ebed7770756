"""Publicity windows on both engines: open over a stage, the published list (never ID
numbers, phones or votes), objections (late ones refused), closing with outcomes."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from stage_data import COMMITTEE, application, assert_chinese_font_embedded, employer, write_csv
from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import Applicant, Application
from zhicheng.files.tables import FileRefused
from zhicheng.publicity import service as publicity
from zhicheng.publicity.models import Objection, PublicityEntry
from zhicheng.workspace import working_calendar

HEADER = ["公示编号", "申报编号", "异议时间", "异议内容", "异议编号", "处理结果", "处理时间", "处理理由"]


@pytest.fixture
def waiting(app):
    with unit_of_work(app.sessions) as s:
        e = employer(s, 7, "泰州市第一建筑公司")
        for n in (1, 2, 3):
            application(s, app.config, n=n, stage="评前公示", employer_row=e)
        application(s, app.config, n=4, stage="评后公示", employer_row=e)
        application(s, app.config, n=5, stage="专家评审", employer_row=e)
    return app


def _open(app, tmp_path, kind="评前"):
    with unit_of_work(app.sessions) as s:
        return publicity.open_window(session=s, kind=kind, committee_id=COMMITTEE, config=app.config,
                                     calendar=working_calendar(app.config.directory),
                                     now=app.clock.now(), out_dir=tmp_path / "lists")


def test_open_window_dates_and_list_without_private_data(waiting, tmp_path):
    import openpyxl
    import pymupdf
    r = _open(waiting, tmp_path)       # Monday 2026-06-01 09:00
    assert (r["applications"], r["opens_on"], r["closes_on"]) == (3, "2026-06-01", "2026-06-05")
    assert r["ends_at"] == "2026-06-06T00:00:00+08:00"
    assert _open(waiting, tmp_path)["window"] is None          # nobody else waiting
    with waiting.sessions() as s:
        private = [(p.id_number, p.phone) for p in s.scalars(select(Applicant))]
    text = "".join(page.get_text() for page in pymupdf.open(r["list_pdf"]))
    cells = [str(c) for ws in openpyxl.load_workbook(r["list_xlsx"]).worksheets
             for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    for shown in (text, "\n".join(cells)):
        assert "申报人001" in shown and "泰州市第一建筑公司" in shown and "工程师" in shown
        assert "电气工程" in shown and "申报人004" not in shown
        for id_number, phone in private:
            assert id_number not in shown and id_number[:6] + id_number[6:14] not in shown
            assert phone not in shown
        assert "同意" not in shown
    assert_chinese_font_embedded(pymupdf.open(r["list_pdf"]))


def test_window_over_national_day_counts_makeup_saturday(waiting, tmp_path):
    waiting.clock.set(dt.datetime(2026, 9, 29, 10, 0))
    r = _open(waiting, tmp_path)
    assert (r["opens_on"], r["closes_on"]) == ("2026-09-29", "2026-10-10")


def test_window_over_spring_festival(waiting, tmp_path):
    waiting.clock.set(dt.datetime(2026, 2, 16, 10, 0))   # inside the holiday
    r = _open(waiting, tmp_path)
    assert (r["opens_on"], r["closes_on"]) == ("2026-02-24", "2026-02-28")


def test_year_not_covered_is_an_error_naming_it(waiting, tmp_path):
    from zhicheng.domain.calendar import CalendarYearNotCovered
    waiting.clock.set(dt.datetime(2026, 12, 30, 10, 0))
    with pytest.raises(CalendarYearNotCovered, match="2027"):
        _open(waiting, tmp_path)
    with waiting.sessions() as s:
        assert s.scalars(select(PublicityEntry)).first() is None     # nothing half-opened


def test_late_objection_refuses_the_whole_file(waiting, tmp_path):
    w = _open(waiting, tmp_path)["window"]
    bad = write_csv(tmp_path / "obj.csv", HEADER, [
        [w, "SUB-00001", "2026-06-03 10:00", "论文造假", "", "", "", ""],
        [w, "SUB-00002", "2026-06-06 00:30", "业绩不实", "", "", "", ""],      # after 24:00 of 06-05
        [w, "SUB-00004", "2026-06-03 10:00", "不在名单", "", "", "", ""],
        [w, "SUB-00003", "2026-06-03 10:00", "x", "", "作废", "", ""]])
    with unit_of_work(waiting.sessions) as s, pytest.raises(FileRefused) as err:
        publicity.import_objections(session=s, path=bad, config=waiting.config, now=waiting.clock.now())
    assert sorted({r for r, _ in err.value.problems}) == [3, 4, 5]
    assert "公示期已结束" in str(err.value)
    with waiting.sessions() as s:
        assert s.scalars(select(Objection)).first() is None


def test_objections_take_times_as_staff_type_them(waiting, tmp_path):
    """The forms of review imports too (one reader: zhicheng.domain.shanghai_time), read
    as Shanghai wall time; an Excel serial number is refused whole, saying so."""
    w = _open(waiting, tmp_path)["window"]
    typed = write_csv(tmp_path / "obj.csv", HEADER, [
        [w, "SUB-00001", "2026/6/3 10:00", "论文造假", "", "", "", ""],
        [w, "SUB-00002", "2026年6月4日 11:00", "业绩不实", "", "成立", "2026/6/5 15:00", "经核查业绩材料不实"]])
    serial = write_csv(tmp_path / "serial.csv", HEADER, [[w, "SUB-00003", "46176.4", "x", "", "", "", ""]])
    with unit_of_work(waiting.sessions) as s, pytest.raises(FileRefused, match="日期序列号"):
        publicity.import_objections(session=s, path=serial, config=waiting.config, now=waiting.clock.now())
    with unit_of_work(waiting.sessions) as s:
        r = publicity.import_objections(session=s, path=typed, config=waiting.config, now=waiting.clock.now())
    assert (r["lodged"], r["decided"]) == (2, 1)
    with waiting.sessions() as s:
        got = {o.lodged_at: o.decided_at for o in s.scalars(select(Objection))}
    shanghai = dt.timezone(dt.timedelta(hours=8))
    assert got == {dt.datetime(2026, 6, 3, 10, 0, tzinfo=shanghai): None,
                   dt.datetime(2026, 6, 4, 11, 0, tzinfo=shanghai): dt.datetime(2026, 6, 5, 15, 0, tzinfo=shanghai)}


def _close_due(app):
    """publicity_close_due at the app's clock, run as the command line runs it."""
    from zhicheng.flows.publicity import publicity_close_due
    from zhicheng.runtime import run_flow
    return run_flow(publicity_close_due, as_of=app.clock.now().isoformat())


def test_close_due_moves_holds_and_removes(waiting, tmp_path, no_prefect_api):
    pytest.importorskip("zhicheng.review.service")
    from zhicheng.review.models import Decision
    w = _open(waiting, tmp_path)["window"]
    lodge = write_csv(tmp_path / "obj.csv", HEADER, [
        [w, "SUB-00001", "2026-06-03 10:00", "论文造假", "", "", "", ""],
        [w, "SUB-00002", "2026-06-04 11:00", "业绩不实", "", "成立", "2026-06-05 15:00", "经核查业绩材料不实"]])
    with unit_of_work(waiting.sessions) as s:
        r = publicity.import_objections(session=s, path=lodge, config=waiting.config, now=waiting.clock.now())
    assert (r["lodged"], r["decided"]) == (2, 1)
    waiting.clock.set(dt.datetime(2026, 6, 5, 23, 59))
    assert _close_due(waiting)["closed_windows"] == []
    waiting.clock.set(dt.datetime(2026, 6, 6, 0, 30))
    r = _close_due(waiting)
    assert (r["closed_windows"], r["passed"], r["held"], r["removed"]) == ([w], 1, 1, 1)
    r = _close_due(waiting)                           # again: nothing more happens
    assert (r["closed_windows"], r["passed"], r["removed"], r["held"]) == ([], 0, 0, 1)
    with waiting.sessions() as s:
        apps = {a.submission_id: a for a in s.scalars(select(Application))}
        objection_id = s.scalars(select(Objection.id).where(Objection.application_id == apps["SUB-00001"].id)).one()
        removal = s.scalars(select(Decision).where(Decision.action == "remove")).one()
    assert apps["SUB-00003"].stage == "专家评审" and apps["SUB-00001"].stage == "评前公示"
    assert "经核查业绩材料不实" in removal.reason and removal.actor == "system"
    # a dismissed objection, decided after closing, lets the held application go on at once
    decide = write_csv(tmp_path / "dec.csv", HEADER, [
        [w, "SUB-00001", "", "", objection_id, "不成立", "2026-06-08 10:00", "经核查无此事"]])
    waiting.clock.set(dt.datetime(2026, 6, 8, 10, 0))
    with unit_of_work(waiting.sessions) as s:
        r = publicity.import_objections(session=s, path=decide, config=waiting.config, now=waiting.clock.now())
    assert r["settled"]["passed"] == 1
    with waiting.sessions() as s:
        assert s.scalars(select(Application.stage).where(Application.submission_id == "SUB-00001")).one() == "专家评审"


def test_the_flow_settles_by_entries_and_a_stopped_run_is_finished_by_the_next(
        waiting, tmp_path, chunk_sizes, no_prefect_api, monkeypatch):
    """publicity_close_due settles a closed window's list in chunks of entries, each its
    own transaction (a province's 初定 list is tens of thousands long): a run stopped
    after a chunk leaves that chunk settled, and the next run settles the rest, deciding
    no application twice."""
    from zhicheng.flows.publicity import publicity_close_due
    from zhicheng.review.models import Decision
    from zhicheng.runtime import run_flow
    chunk_sizes(publicity=2)
    w = _open(waiting, tmp_path)["window"]      # SUB-00001..3, in that order
    lodge = write_csv(tmp_path / "obj.csv", HEADER, [
        [w, "SUB-00001", "2026-06-03 10:00", "论文造假", "", "", "", ""],
        [w, "SUB-00002", "2026-06-04 11:00", "业绩不实", "", "成立", "2026-06-05 15:00", "经核查业绩材料不实"]])
    with unit_of_work(waiting.sessions) as s:
        publicity.import_objections(session=s, path=lodge, config=waiting.config, now=waiting.clock.now())
    settle, calls = publicity.settle, []

    def stopped_at_the_second_chunk(**kwargs):
        calls.append(list(kwargs["entry_ids"]))
        if len(calls) == 2:
            raise RuntimeError("the worker stopped")
        return settle(**kwargs)

    def outcomes():
        with waiting.sessions() as s:
            return dict(s.execute(select(Application.submission_id, PublicityEntry.outcome).join(
                PublicityEntry, PublicityEntry.application_id == Application.id)).all())

    monkeypatch.setattr(publicity, "settle", stopped_at_the_second_chunk)
    with pytest.raises(RuntimeError, match="stopped"):
        run_flow(publicity_close_due, as_of="2026-06-06T00:30:00+08:00")
    assert [len(c) for c in calls] == [2, 1]
    assert outcomes() == {"SUB-00001": "held", "SUB-00002": "removed", "SUB-00003": "pending"}
    monkeypatch.setattr(publicity, "settle", settle)
    summary = run_flow(publicity_close_due, as_of="2026-06-06T01:30:00+08:00")
    assert summary["closed_windows"] == []          # closed by the stopped run
    assert (summary["passed"], summary["held"], summary["removed"]) == (1, 1, 0)
    assert outcomes() == {"SUB-00001": "held", "SUB-00002": "removed", "SUB-00003": "passed"}
    with waiting.sessions() as s:
        decided = s.execute(select(Application.submission_id, Decision.action).join(
            Decision, Decision.application_id == Application.id).where(Decision.actor == "system")).all()
    assert sorted(decided) == [("SUB-00002", "remove"), ("SUB-00003", "approve")]
