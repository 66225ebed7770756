"""The review service on both engines: entering chains, decisions, returns through the
outbox, resubmission, rejection, and the audit trail. (Stored times come back aware in
UTC on both engines: compared as instants with Shanghai times.)"""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from review_data import resubmit, validated
from zhicheng.config import get_config
from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import Application, OutboxItem
from zhicheng.domain.review import IllegalMove
from zhicheng.issuance.service import eligible_application_ids
from zhicheng.review import service as review
from zhicheng.review.models import Decision, ReviewStep

SH = dt.timezone(dt.timedelta(hours=8))


def _new(app, **kw) -> int:
    with unit_of_work(app.sessions) as s:
        a = validated(s, app.config, **kw)
        review.enter_chain(session=s, application_id=a.id, now=app.clock.now(), config=app.config)
        return a.id


def _decide(app, app_id, stage, action="approve", reason=None, **kw):
    with unit_of_work(app.sessions) as s:
        return review.decide(session=s, application_id=app_id, stage=stage, action=action,
                             actor=kw.get("actor", "张三"), office=kw.get("office", "某单位人事科"), reason=reason,
                             decided_at=kw.get("at", app.clock.now()), now=app.clock.now(), config=app.config,
                             source_file=kw.get("source_file"), source_row=kw.get("source_row")).id


def _get(app, app_id) -> Application:
    with app.sessions() as s:
        a = s.get(Application, app_id)
        s.expunge(a)
        return a


def _count(app, model, *where) -> int:
    with app.sessions() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_fresh_application_enters_after_its_submission_stage_with_a_deadline(app):
    app_id = _new(app, n=1)                      # TZ-GC-ZJ: 市, not delegated, reported 市级
    a = _get(app, app_id)
    assert (a.status, a.stage_index, a.stage) == ("in_review", 1, "市单位审核、公示")
    assert a.chain == list(app.config.chains.route("市", "市级", False))
    with app.sessions() as s:
        step = s.scalars(select(ReviewStep).where(ReviewStep.application_id == app_id)).one()
    # entered Mon 2026-06-01; 15 working days from 06-02, skipping 端午 (Fri 06-19): 06-23
    assert step.due_at == dt.datetime(2026, 6, 24, 0, 0, tzinfo=SH)
    with unit_of_work(app.sessions) as s:        # validation calling again changes nothing
        assert review.enter_chain(session=s, application_id=app_id, now=app.clock.now(), config=app.config).already_in
    assert _count(app, ReviewStep, ReviewStep.application_id == app_id) == 1


@pytest.mark.parametrize("track,committee,first", [
    ("初定", None, "单位审核、公示"), ("补办", None, "职称管理部门审核"),
    ("换发", None, "职称管理部门审核"), ("历史登记", None, "职称管理部门审核"),
    ("评审", "NJU-GXJS-GJ", "单位审核、公示")])
def test_tracks_enter_their_own_chains_and_approval_reaches_issuance(app, track, committee, first):
    app_id = _new(app, n=2, track=track, committee=committee)
    a = _get(app, app_id)
    assert a.stage == first and a.chain[0].endswith(("申报", "申请"))
    while a.status == "in_review":
        _decide(app, app_id, a.stage)
        a = _get(app, app_id)
    assert a.status == "approved"
    assert app.config.chains.kinds[a.stage] in ("filing", "issue", "register")
    with app.sessions() as s:
        assert eligible_application_ids(session=s, config=app.config) == [app_id]
    assert _count(app, Decision, Decision.application_id == app_id) == a.stage_index - 1


def test_illegal_moves_are_refused_and_write_nothing(app):
    app_id = _new(app, n=3)
    _decide(app, app_id, "市单位审核、公示")
    before = (_count(app, Decision), _count(app, ReviewStep))
    for stage, action, match in [("市单位审核、公示", "approve", "已处理过"),     # twice
                                 ("评委会审核", "approve", "当前在“市行政主管部门审核”"),  # a skip
                                 ("市行政主管部门审核", "reject", "须填写理由")]:
        with pytest.raises(IllegalMove, match=match):
            _decide(app, app_id, stage, action)
    assert (_count(app, Decision), _count(app, ReviewStep)) == before
    with unit_of_work(app.sessions) as s:
        s.get(Application, app_id).status = "withdrawn"
    with pytest.raises(IllegalMove, match="已撤回"):
        _decide(app, app_id, "市行政主管部门审核")


def test_return_goes_to_the_hall_once_and_the_resubmission_reenters_there(app):
    app_id = _new(app, n=4)
    _decide(app, app_id, "市单位审核、公示")
    _decide(app, app_id, "市行政主管部门审核", "return", "年度考核表缺2024年度，请补充")
    a = _get(app, app_id)
    assert (a.status, a.stage) == ("returned", "市行政主管部门审核")
    with app.sessions() as s:
        item = s.scalars(select(OutboxItem)).one()
    key = f"return:{a.submission_id}:r1:市行政主管部门审核"
    assert (item.target, item.dedupe_key) == ("hall_return", key)
    assert item.payload == {"submission_id": a.submission_id, "revision": 1, "stage": "市行政主管部门审核",
                            "reasons": [{"code": "review.returned", "message": "年度考核表缺2024年度，请补充"}],
                            "idempotency_key": key}
    with pytest.raises(IllegalMove, match="退回"):                  # no second return, no decision
        _decide(app, app_id, "市行政主管部门审核", "return", "again")
    with unit_of_work(app.sessions) as s, pytest.raises(IllegalMove, match="尚未收到重新提交"):
        review.enter_chain(session=s, application_id=app_id, now=app.clock.now(), config=app.config)
    app.clock.advance(days=3)
    with unit_of_work(app.sessions) as s:
        resubmit(s, s.get(Application, app_id))
        entry = review.enter_chain(session=s, application_id=app_id, now=app.clock.now(), config=app.config)
    assert entry.resubmission and entry.stage == "市行政主管部门审核"
    a = _get(app, app_id)
    assert (a.status, a.stage, a.current_revision) == ("in_review", "市行政主管部门审核", 2)
    _decide(app, app_id, "市行政主管部门审核")
    assert _get(app, app_id).stage == "评委会审核"
    assert _count(app, OutboxItem) == 1
    with app.sessions() as s:
        steps = [(r.stage, r.outcome) for r in s.scalars(select(ReviewStep).order_by(ReviewStep.id))]
    assert steps == [("市单位审核、公示", "approve"), ("市行政主管部门审核", "return"),
                     ("市行政主管部门审核", "approve"), ("评委会审核", None)]


def test_rejection_ends_frees_the_year_slot_and_tells_the_applicant(app):
    app_id = _new(app, n=5)
    _decide(app, app_id, "市单位审核、公示", "reject", "不符合申报条件：任职年限不足")
    a = _get(app, app_id)
    assert (a.status, a.holds_year_slot) == ("rejected", False)
    with app.sessions() as s:
        note = s.scalars(select(OutboxItem)).one()
    assert (note.target, note.payload["template"]) == ("hall_notification", "rejected")
    with pytest.raises(IllegalMove, match="已不通过"):
        _decide(app, app_id, "市单位审核、公示")
    with unit_of_work(app.sessions) as s, pytest.raises(IllegalMove):
        review.enter_chain(session=s, application_id=app_id, now=app.clock.now(), config=app.config)


def test_decisions_are_audited_with_who_where_when_why_and_source(app):
    app_id = _new(app, n=6)
    at = dt.datetime(2026, 6, 2, 14, 30, tzinfo=SH)
    d_id = _decide(app, app_id, "市单位审核、公示", actor="李四", office="泰州某公司人事处", at=at,
                   source_file="decisions.csv", source_row=7)
    with app.sessions() as s:
        d = s.get(Decision, d_id)
        assert (d.actor, d.office, d.action, d.revision, d.stage_index) == ("李四", "泰州某公司人事处", "approve", 1, 1)
        assert (d.source_file, d.source_row, d.decided_at) == ("decisions.csv", 7, at)
        assert d.recorded_at == app.clock.now()
        step = s.scalars(select(ReviewStep).where(ReviewStep.stage == "市行政主管部门审核")).one()
        assert step.entered_at == at   # the next office's clock starts when the decision was made


COMMITTEE_OF = {("省", False): "JS-GC-DQ-GJ", ("省", True): "NJU-GXJS-GJ", ("市", False): "TZ-GC-ZJ",
                ("市", True): "NJ-GC-ZJ", ("县区", False): "TX-NY-ZJ", ("县区", True): "KS-GC-ZJ"}
SEED_CHAINS = sorted((k.tier, k.reporting, k.delegated) for k in get_config().chains.review)


@pytest.mark.parametrize("tier,reporting,delegated", SEED_CHAINS, ids=lambda v: str(v))
def test_every_seed_chain_walks_with_a_return_and_resubmission(app, tier, reporting, delegated):
    app_id = _new(app, n=7, committee=COMMITTEE_OF[(tier, delegated)], reporting=reporting)
    chain = list(app.config.chains.route(tier, reporting, delegated))
    kinds = app.config.chains.kinds
    returning = [s for s in chain if kinds[s] == "review"][-1]    # the last office returns it once
    walked = []
    a = _get(app, app_id)
    assert a.chain == chain
    while a.status == "in_review":
        if a.stage == returning and a.current_revision == 1:
            _decide(app, app_id, a.stage, "return", "请补充材料")
            with unit_of_work(app.sessions) as s:
                resubmit(s, s.get(Application, app_id))
                review.enter_chain(session=s, application_id=app_id, now=app.clock.now(), config=app.config)
        else:
            actor = "system" if kinds[a.stage] in ("publicity", "vote") else "张三"
            _decide(app, app_id, a.stage, actor=actor)
        walked.append(a.stage)
        a = _get(app, app_id)
    first_ready = next(i for i, s in enumerate(chain) if kinds[s] in ("filing", "issue", "register"))
    assert (a.status, a.stage_index) == ("approved", first_ready)
    i = chain.index(returning)
    assert walked == chain[1:i + 1] + chain[i:first_ready]     # no stage skipped, the returning one twice
    with app.sessions() as s:   # the return, then passing the same last review stage in revision 2
        sent = [(o.target, o.kind, o.dedupe_key, o.payload["params"]["stage"] if o.kind == "passed_review" else None)
                for o in s.scalars(select(OutboxItem).order_by(OutboxItem.id))]
    sid = a.submission_id
    assert sent == [("hall_return", "return", f"return:{sid}:r1:{returning}", None),
                    ("hall_notification", "passed_review", f"passed_review:{sid}:r2", returning)]


def test_decide_many_moves_like_decide_in_order_and_skips_illegal_moves(app):
    a_id, b_id = _new(app, n=1), _new(app, n=2)
    chain = _get(app, a_id).chain
    with unit_of_work(app.sessions) as s:
        a, b = s.get(Application, a_id), s.get(Application, b_id)
        req = dict(action="approve", actor="张三", office="某单位人事科", reason=None,
                   decided_at=app.clock.now())
        made = review.decide_many(session=s, requests=[review.Request(app=a, stage=chain[1], **req),
                                      review.Request(app=a, stage=chain[2], **req),
                                      review.Request(app=b, stage=chain[2], **req)],  # b is at 1
                                  now=app.clock.now(), config=app.config)
        s.flush()
        assert [isinstance(d, IllegalMove) for d in made] == [False, False, True]
        assert [(d.stage_index, d.action) for d in made[:2]] == [(1, "approve"), (2, "approve")]
    assert (_get(app, a_id).stage_index, _get(app, b_id).stage_index) == (3, 1)
    with app.sessions() as s:
        steps = s.execute(select(ReviewStep.stage_index, ReviewStep.outcome).where(
            ReviewStep.application_id == a_id).order_by(ReviewStep.stage_index)).all()
    assert [tuple(x) for x in steps] == [(1, "approve"), (2, "approve"), (3, None)]
    assert _count(app, Decision, Decision.application_id == a_id) == 2
    assert _count(app, Decision, Decision.application_id == b_id) == 0


def test_enter_many_puts_a_chunk_where_enter_chain_puts_each(app):
    """A fresh application, a resubmission after a return, one already on its chain and
    one no chain fits, entered together, end where enter_chain puts them one by one."""
    on_chain, returned = _new(app, n=21), _new(app, n=22)
    _decide(app, returned, "市单位审核、公示", "return", "缺少业绩材料")
    with unit_of_work(app.sessions) as s:
        fresh = validated(s, app.config, n=23).id
        lost = validated(s, app.config, n=24, committee=None, reporting="乡级").id
        resubmit(s, s.get(Application, returned))
    with unit_of_work(app.sessions) as s:
        apps = [review.lock_application(session=s, application_id=i) for i in (fresh, returned, on_chain, lost)]
        got = review.enter_many(session=s, apps=apps, now=app.clock.now(), config=app.config)
    assert isinstance(got[lost], IllegalMove) and _get(app, lost).status == "validated"
    assert got[on_chain].already_in and got[returned].resubmission and not got[fresh].resubmission
    assert (_get(app, returned).status, _get(app, returned).stage) == ("in_review", "市单位审核、公示")
    one_by_one = _new(app, n=25)
    assert (_get(app, fresh).stage_index, _get(app, fresh).stage, _get(app, fresh).chain) == \
        (_get(app, one_by_one).stage_index, _get(app, one_by_one).stage, _get(app, one_by_one).chain)
    with app.sessions() as s:
        due = dict(s.execute(select(ReviewStep.application_id, ReviewStep.due_at).where(
            ReviewStep.outcome.is_(None), ReviewStep.application_id.in_([fresh, one_by_one]))).all())
    assert due[fresh] == due[one_by_one] is not None
    assert _count(app, ReviewStep, ReviewStep.application_id == on_chain) == 1
