"""Review, votes and publicity write set-wise (issue 25): the statements a batch issues
do not grow with its applications, and a batch writes the same rows, notices and
transitions as one decision at a time does."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, select

from review_data import validated
from stage_data import COMMITTEE, application, employer, write_csv, write_xlsx
from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import Application, OutboxItem
from zhicheng.publicity import service as publicity
from zhicheng.review import service as review
from zhicheng.review.imports import import_decisions
from zhicheng.review.models import Decision, ReviewStep
from zhicheng.votes import service as votes

HEADER = ["申报编号", "姓名", "环节", "处理结果", "意见", "经办人", "处理单位", "处理时间"]
# TZ-GC-ZJ's chain from 市单位审核、公示: two review stages, then 评委会审核 and the last
# review stage before 评前公示 (passing it queues the passed_review notice).
STAGES = ["市单位审核、公示", "市行政主管部门审核", "评委会审核", "省/市职称管理部门审核"]


@contextmanager
def counted(engine) -> Iterator[list[str]]:
    """Every statement the engine sends while the block runs (an executemany counts once)."""
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _on_chain(app, numbers) -> list[int]:
    with unit_of_work(app.sessions) as s:
        ids = [validated(s, app.config, n=n).id for n in numbers]
        for i in ids:
            review.enter_chain(session=s, application_id=i, now=app.clock.now(), config=app.config)
    return ids


def _decisions_file(app, tmp_path, numbers, name) -> str:
    rows = [[f"JS2026{n:06d}", f"申报人{n:03d}", stage, "通过", "同意", "王芳", "人事处", f"2026-06-0{2 + k} 09:30"]
            for n in numbers for k, stage in enumerate(STAGES)]
    return write_csv(tmp_path / name, HEADER, rows)


def _import(app, path):
    with unit_of_work(app.sessions) as s:
        return import_decisions(session=s, path=path, config=app.config, now=app.clock.now())


def test_a_review_file_costs_the_same_statements_for_4_or_16_applications(app, tmp_path):
    small, large = range(1, 5), range(11, 27)
    _on_chain(app, [*small, *large])
    app.clock.set(dt.datetime(2026, 6, 9, 18, 0))
    with counted(app.engine) as few:
        assert _import(app, _decisions_file(app, tmp_path, small, "a.csv"))["applied"] == 4 * len(STAGES)
    with counted(app.engine) as many:
        assert _import(app, _decisions_file(app, tmp_path, large, "b.csv"))["applied"] == 16 * len(STAGES)
    assert len(many) == len(few), (len(few), len(many))
    with app.sessions() as s:
        steps = s.execute(select(ReviewStep.stage, ReviewStep.outcome, ReviewStep.left_at.is_(None))
                          .where(ReviewStep.application_id == s.scalar(
                              select(Application.id).where(Application.submission_id == "JS2026000011")))
                          .order_by(ReviewStep.id)).all()
        notices = s.scalars(select(OutboxItem.dedupe_key).where(OutboxItem.kind == "passed_review")).all()
    assert steps == [*((st, "approve", False) for st in STAGES), ("评前公示", None, True)]
    assert len(notices) == 20


def _rows(app, ids: list[int]) -> dict:
    """What a decision leaves, by position in `ids` (application ids and row ids aside)."""
    place = {i: k for k, i in enumerate(ids)}
    with app.sessions() as s:
        decisions = [(place[d.application_id], d.revision, d.stage_index, d.stage, d.action, d.actor, d.office,
                      d.reason, d.decided_at, d.recorded_at, d.source_file, d.source_row)
                     for d in s.scalars(select(Decision).where(Decision.application_id.in_(ids)).order_by(Decision.id))]
        steps = sorted((place[t.application_id], t.stage_index, t.stage, t.entered_at, t.due_at, t.left_at, t.outcome)
                       for t in s.scalars(select(ReviewStep).where(ReviewStep.application_id.in_(ids))))
        apps = [(a.status, a.stage, a.stage_index, a.holds_year_slot)
                for a in s.scalars(select(Application).where(Application.id.in_(ids)).order_by(Application.id))]
        outbox = [(o.target, o.kind, o.payload.get("template"), o.payload.get("params", {}).get("stage"))
                  for o in s.scalars(select(OutboxItem).order_by(OutboxItem.id))
                  if o.payload.get("params", {}).get("submission_id") in {a for a in _sids(s, ids)}
                  or o.payload.get("submission_id") in set(_sids(s, ids))]
    return {"decisions": decisions, "steps": steps, "apps": apps, "outbox": outbox}


def _sids(s, ids) -> list[str]:
    return list(s.scalars(select(Application.submission_id).where(Application.id.in_(ids))))


def test_a_batch_writes_what_one_decision_at_a_time_writes(app):
    """decide_many against decide(): the same decisions, steps (entered, left, deadlines),
    statuses and notices, for approvals over two stages, a return and a rejection."""
    one, batch = _on_chain(app, range(1, 4)), _on_chain(app, range(101, 104))
    app.clock.set(dt.datetime(2026, 6, 9, 18, 0))
    plan = [(0, STAGES[0], "approve", None), (0, STAGES[1], "approve", "同意"),
            (0, STAGES[2], "approve", None), (0, STAGES[3], "approve", None),
            (1, STAGES[0], "return", "缺少考核表"), (2, STAGES[0], "reject", "年限不足")]
    when = dt.datetime(2026, 6, 3, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    for k, stage, action, reason in plan:
        with unit_of_work(app.sessions) as s:
            review.decide(session=s, application_id=one[k], stage=stage, action=action, actor="王芳",
                          office="人事处", reason=reason, decided_at=when, now=app.clock.now(), config=app.config)
    with unit_of_work(app.sessions) as s:
        locked = review.lock_applications(session=s, ids=set(batch))
        made = review.decide_many(session=s, requests=[
            review.Request(locked[batch[k]], stage, action, "王芳", "人事处", reason, when)
            for k, stage, action, reason in plan], now=app.clock.now(), config=app.config)
        s.flush()
    assert not [m for m in made if isinstance(m, Exception)]
    got, want = _rows(app, batch), _rows(app, one)
    # a batch queues its passed_review notices together, after the others (as it always did)
    assert [o[1] for o in got.pop("outbox")] == ["return", "rejected", "passed_review"]
    assert [o[1] for o in want.pop("outbox")] == ["passed_review", "return", "rejected"]
    assert got == want


def test_ballots_and_a_session_cost_the_same_statements_for_3_or_12_items(app, tmp_path):
    with unit_of_work(app.sessions) as s:
        rows = [[COMMITTEE, f"M{i:02d}", f"专家{i:02d}", f"单位{i:02d}", "", "在任"] for i in range(1, 16)]
        header = ["评委会编号", "专家编号", "姓名", "工作单位", "统一社会信用代码", "状态"]
        votes.import_roster(session=s, path=write_csv(tmp_path / "roster.csv", header, rows),
                            config=app.config)
        other = employer(s, 2, "甲公司")
        for n in range(1, 16):
            application(s, app.config, n=n, stage="专家评审", employer_row=other)

    def one_session(code: str, numbers) -> tuple[int, int, dict]:
        items = [f"SUB-{n:05d}" for n in numbers]
        book = write_xlsx(tmp_path / f"{code}.xlsx", {
            "会议": (["会议编号", "评委会编号", "召开日期"], [[code, COMMITTEE, "2026-06-10"]]),
            "议程": (["申报编号"], [[i] for i in items]),
            "出席": (["专家编号", "是否出席"], [[f"M{i:02d}", "是"] for i in range(1, 16)])})
        ballots = write_csv(tmp_path / f"ballots-{code}.csv", ["会议编号", "申报编号", "专家编号", "表决意见"],
                            [[code, i, f"M{m:02d}", "同意"] for i in items for m in range(1, 16)])
        with counted(app.engine) as session_statements, unit_of_work(app.sessions) as s:
            votes.import_session(session=s, path=book, config=app.config)
        with counted(app.engine) as ballot_statements, unit_of_work(app.sessions) as s:
            stored = votes.import_ballots(session=s, path=ballots, config=app.config)
        with unit_of_work(app.sessions) as s:   # the same file again stores nothing
            again = votes.import_ballots(session=s, path=ballots, config=app.config)
        assert (again["stored"], again["already_stored"]) == (0, 15 * len(items))
        with unit_of_work(app.sessions) as s:
            result = votes.apply_tally(session=s, session_code=code, config=app.config, now=app.clock.now())
        assert stored["stored"] == 15 * len(items) and sorted(result["decided"]) == items
        return len(session_statements), len(ballot_statements), stored

    small, large = one_session("TZ-2026-01", range(1, 4)), one_session("TZ-2026-02", range(4, 16))
    assert small[:2] == large[:2]


def test_a_window_over_more_applications_costs_no_more_statements(app, tmp_path):
    from zhicheng.workspace import working_calendar
    with unit_of_work(app.sessions) as s:
        other = employer(s, 2, "甲公司")
        for n in range(1, 4):
            application(s, app.config, n=n, stage="评前公示", employer_row=other, committee=COMMITTEE)
    calendar = working_calendar(app.config.directory)

    def open_one(out: str) -> tuple[int, dict]:
        with counted(app.engine) as seen, unit_of_work(app.sessions) as s:
            got = publicity.open_window(session=s, kind="评前", committee_id=COMMITTEE, config=app.config,
                                        calendar=calendar, now=app.clock.now(), out_dir=tmp_path / out)
        return len(seen), got

    few, first = open_one("a")
    with unit_of_work(app.sessions) as s:
        for n in range(4, 16):
            application(s, app.config, n=n, stage="评前公示", employer_row=other, committee=COMMITTEE)
    many, second = open_one("b")
    assert (first["applications"], second["applications"]) == (3, 12)
    assert many == few


def test_a_review_file_larger_than_a_statements_bound_parameters_is_read_in_pages(app, tmp_path):
    """At 100,000 applications a review round names more applications than a statement may
    bind (SQLite 32,766): every IN-list of the import, the batch and its notices is paged.
    The limit is lowered here so that 700 applications stand for those."""
    import sqlite3

    import pytest
    if app.engine.dialect.name != "sqlite":
        pytest.skip("the bound-parameter limit is lowered on SQLite's connections")
    numbers = range(1, 701)
    _on_chain(app, numbers)
    app.clock.set(dt.datetime(2026, 6, 9, 18, 0))

    def lowered(dbapi_connection, record):
        dbapi_connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 600)
    event.listen(app.engine, "connect", lowered)
    app.engine.dispose()
    try:
        got = _import(app, _decisions_file(app, tmp_path, numbers, "all.csv"))
    finally:
        event.remove(app.engine, "connect", lowered)
        app.engine.dispose()
    assert got["applied"] == 700 * len(STAGES)
    with app.sessions() as s:
        assert len(s.scalars(select(OutboxItem.id).where(OutboxItem.kind == "passed_review")).all()) == 700
