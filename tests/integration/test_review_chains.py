"""Every chain of config, walked through staff files on both engines: the twelve 评审
chains of seed 001 section 3.3.3.2 and the 初定, 补办, 换发 and 历史登记 tracks. On each,
one application is approved stage by stage to issuance, one is returned at a review
stage and, resubmitted, re-enters there and goes on, and one is rejected, after which
nothing more is accepted."""
from __future__ import annotations

import datetime as dt
import itertools

import pytest
from sqlalchemy import select

from review_data import resubmit, validated
from stage_data import write_csv
from zhicheng.config import get_config
from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import Application
from zhicheng.domain.review import READY_KINDS
from zhicheng.files.tables import FileRefused
from zhicheng.issuance.service import eligible_application_ids
from zhicheng.review import service as review
from zhicheng.review.imports import import_decisions
from zhicheng.review.models import Decision

HEADER = ["申报编号", "环节", "处理结果", "意见", "经办人", "处理单位", "处理时间"]
CHAINS = get_config().chains
COMMITTEE_OF = {("省", False): "JS-GC-DQ-GJ", ("省", True): "NJU-GXJS-GJ", ("市", False): "TZ-GC-ZJ",
                ("市", True): "NJ-GC-ZJ", ("县区", False): "TX-NY-ZJ", ("县区", True): "KS-GC-ZJ"}
ROUTES = {f"评审-{k.tier}-{k.reporting}-{'下放' if k.delegated else '未下放'}":
          ("评审", COMMITTEE_OF[(k.tier, k.delegated)], k.reporting, tuple(c)) for k, c in CHAINS.review.items()}
ROUTES.update({track: (track, None, None, tuple(c)) for track, c in CHAINS.tracks.items()})


class Office:
    """Writes the staff's files: one row per decision, times a minute apart."""

    def __init__(self, app, tmp_path) -> None:
        self.app, self.tmp, self.files = app, tmp_path, itertools.count()
        self.minute = itertools.count()

    def send(self, rows: list[tuple[str, str, str, str]]) -> dict:
        lines = []
        for sid, stage, result, why in rows:
            at = dt.datetime(2026, 6, 2, 8, 0) + dt.timedelta(minutes=next(self.minute))
            lines.append([sid, stage, result, why, "王芳", f"{stage}经办处", f"{at:%Y-%m-%d %H:%M}"])
        path = write_csv(self.tmp / f"decisions-{next(self.files)}.csv", HEADER, lines)
        with unit_of_work(self.app.sessions) as s:
            return import_decisions(session=s, path=path, config=self.app.config, now=self.app.clock.now())


def _app(app, app_id) -> Application:
    with app.sessions() as s:
        a = s.get(Application, app_id)
        s.expunge(a)
        return a


def _through_machine_stages(app, app_id) -> Application:
    """Publicity windows and the vote decide their own stages (actor system)."""
    a = _app(app, app_id)
    while a.status == "in_review":
        assert CHAINS.kinds[a.stage] in ("publicity", "vote"), a.stage
        with unit_of_work(app.sessions) as s:
            review.decide(session=s, application_id=app_id, stage=a.stage, action="approve", actor="system",
                          office="系统", reason=None, decided_at=app.clock.now(), now=app.clock.now(),
                          config=app.config)
        a = _app(app, app_id)
    return a


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_every_chain_through_staff_files_with_approval_return_and_rejection(app, tmp_path, route):
    track, committee, reporting, chain = ROUTES[route]
    kinds = CHAINS.kinds
    reviews = [i for i, s in enumerate(chain) if kinds[s] == "review"]
    assert reviews == list(range(1, 1 + len(reviews)))      # the offices come first, in a row
    ids = {}
    with unit_of_work(app.sessions) as s:
        for n, role in enumerate(("passes", "returned", "rejected"), start=1):
            a = validated(s, app.config, n=n, track=track, committee=committee, reporting=reporting)
            review.enter_chain(session=s, application_id=a.id, now=app.clock.now(), config=app.config)
            assert tuple(a.chain) == chain and a.stage_index == 1
            ids[role] = (a.id, a.submission_id)
    app.clock.set(dt.datetime(2026, 12, 30, 18, 0))
    office = Office(app, tmp_path)
    returning, rejecting = reviews[len(reviews) // 2], reviews[-1]
    (p_id, p_sid), (r_id, r_sid), (x_id, x_sid) = ids["passes"], ids["returned"], ids["rejected"]

    # one file, many stages: every review stage of the first, up to a return and a rejection
    rows = [(p_sid, chain[i], "通过", "") for i in reviews]
    rows += [(r_sid, chain[i], "通过", "") for i in reviews if i < returning]
    rows += [(r_sid, chain[returning], "退回", "请补充近五年年度考核表")]
    rows += [(x_sid, chain[i], "通过", "") for i in reviews if i < rejecting]
    rows += [(x_sid, chain[rejecting], "不通过", "任职年限不足")]
    r = office.send(rows)
    assert r["applied"] == len(rows) and r["by_result"]["return"] == r["by_result"]["reject"] == 1
    assert (_app(app, r_id).status, _app(app, r_id).stage) == ("returned", chain[returning])
    x = _app(app, x_id)
    assert (x.status, x.stage, x.holds_year_slot) == ("rejected", chain[rejecting], False)

    # the rejected one takes nothing more; the returned one nothing before its resubmission
    for sid, stage in ((x_sid, chain[rejecting]), (r_sid, chain[returning])):
        with pytest.raises(FileRefused, match="已不通过" if sid == x_sid else "退回"):
            office.send([(sid, stage, "通过", "")])
    with unit_of_work(app.sessions) as s:
        resubmit(s, s.get(Application, r_id))
        entry = review.enter_chain(session=s, application_id=r_id, now=app.clock.now(), config=app.config)
    assert entry.resubmission and entry.stage == chain[returning]
    office.send([(r_sid, chain[i], "通过", "") for i in reviews if i >= returning])

    first_ready = next(i for i, s in enumerate(chain) if kinds[s] in READY_KINDS)
    for app_id in (p_id, r_id):
        a = _through_machine_stages(app, app_id)
        assert (a.status, a.stage_index) == ("approved", first_ready)
    with app.sessions() as s:
        assert sorted(eligible_application_ids(session=s, config=app.config)) == sorted([p_id, r_id])
        log = {i: [(d.revision, d.stage_index, d.action) for d in s.scalars(
            select(Decision).where(Decision.application_id == i).order_by(Decision.id))] for i in (p_id, r_id, x_id)}
    assert log[p_id] == [(1, i, "approve") for i in range(1, first_ready)]
    assert log[r_id] == ([(1, i, "approve") for i in range(1, returning)] + [(1, returning, "return")]
                         + [(2, i, "approve") for i in range(returning, first_ready)])
    assert log[x_id] == [(1, i, "approve") for i in range(1, rejecting)] + [(1, rejecting, "reject")]
