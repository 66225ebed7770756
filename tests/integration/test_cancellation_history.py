"""取消申请 leaves its decision like every other end of an application: a `withdraw` by the
applicant where the application stood (its open stage; its submission stage while it
was with the applicant), once however often the hall delivers the cancellation; shown
by `zhicheng show` and passed by the decisions' quality checks."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from review_data import validated
from tests.integration.delivery_data import hall_client
from zhicheng.cli.main import app as cli
from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import Application
from zhicheng.intake import cancellation
from zhicheng.quality import service as quality
from zhicheng.review import service as review
from zhicheng.review.models import Decision, ReviewStep


@pytest.fixture
def waits():
    return []


def _decide(app, app_id, action="approve", reason=None):
    with unit_of_work(app.sessions) as s:
        stage = s.get(Application, app_id).stage
        review.decide(session=s, application_id=app_id, stage=stage, action=action, actor="张三", office="某单位人事科",
                      reason=reason, decided_at=app.clock.now(), now=app.clock.now(), config=app.config)


def _decisions(app, app_id) -> list[tuple[int, int, str, str, str]]:
    with app.sessions() as s:
        return [(d.revision, d.stage_index, d.stage, d.action, d.actor) for d in s.scalars(
            select(Decision).where(Decision.application_id == app_id).order_by(Decision.id))]


def _pull(app, hall, creds, waits) -> dict:
    with hall_client(hall, creds, waits) as client:
        return cancellation.pull(app.sessions, hall=client, config=app.config, now=app.clock.now())


def test_a_withdrawal_is_recorded_where_the_application_stood_once(app, hall, standin_credentials, waits):
    with unit_of_work(app.sessions) as s:
        apps = {name: validated(s, app.config, n=n) for n, name in enumerate(
            ("in_review", "returned", "not_entered", "rejected"), start=1)}
        for name in ("in_review", "returned", "rejected"):
            review.enter_chain(session=s, application_id=apps[name].id, now=app.clock.now(), config=app.config)
        ids = {name: a.id for name, a in apps.items()}
        sids = {name: a.submission_id for name, a in apps.items()}
        chain = list(apps["in_review"].chain)
    _decide(app, ids["in_review"])
    _decide(app, ids["in_review"])                       # now at stage 3, undecided
    _decide(app, ids["returned"], "return", "请补充年度考核表")
    _decide(app, ids["rejected"], "reject", "不符合申报条件")
    for name in ("in_review", "returned", "not_entered", "rejected"):
        hall.cancel(sids[name], reason="本人另有安排，电话 13800000002")
    hall.cancel(sids["in_review"])                       # the hall delivers one twice
    got = _pull(app, hall, standin_credentials, waits)
    assert (got["accepted"], got["refused"]) == (4, 1)
    assert _pull(app, hall, standin_credentials, waits) == {"supported": True, "accepted": 0, "refused": 0}

    assert _decisions(app, ids["in_review"])[-1] == (1, 3, chain[3], "withdraw", "申请人")
    assert _decisions(app, ids["returned"])[-2:] == [(1, 1, chain[1], "return", "张三"),
                                                     (1, 0, chain[0], "withdraw", "申请人")]
    assert _decisions(app, ids["not_entered"]) == [(1, 0, "评审申报", "withdraw", "申请人")]
    assert [d[3] for d in _decisions(app, ids["rejected"])] == ["reject"]            # refused: too late
    with app.sessions() as s:
        assert s.scalars(select(ReviewStep).where(ReviewStep.application_id == ids["in_review"],
                                                  ReviewStep.left_at.is_(None))).all() == []
        statuses = {n: s.get(Application, i).status for n, i in ids.items()}
        reason = s.scalar(select(Decision.reason).where(Decision.application_id == ids["returned"],
                                                        Decision.action == "withdraw"))
    assert statuses == {"in_review": "withdrawn", "returned": "withdrawn", "not_entered": "withdrawn",
                        "rejected": "rejected"}
    assert reason.startswith("申请人取消申请（网上大厅取消编号 CAN") and "本人另有安排" in reason
    assert "13800000002" not in reason and "138****0002" in reason      # the applicant's own phone, masked

    shown = json.loads(CliRunner().invoke(cli, ["show", sids["returned"], "--json"]).stdout)["application"]
    assert shown["status"] == "withdrawn" and shown["decisions"][-1]["action"] == "withdraw"
    assert "撤回" in CliRunner().invoke(cli, ["show", sids["not_entered"]]).stdout

    report = quality.run(app=app, suite="decisions")
    assert report["success"], quality.failures(report)
