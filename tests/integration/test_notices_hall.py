"""Notices on passing review and on publicity (seeds 003:42, 004:41) reach the hall's
notifications endpoint (external-systems.md §1, the hall stand-in) once per event: a
run that crashed before its commit and ran again, answers lost on the way, a file
imported twice and a window opened twice send no second notice and no second SMS."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from review_data import validated
from stage_data import COMMITTEE, application, employer, write_csv
from tests.integration.delivery_data import hall_client, statuses
from zhicheng.cli.main import app as cli
from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import Applicant, Application, OutboxItem
from zhicheng.delivery.hall import push_hall
from zhicheng.publicity import service as publicity
from zhicheng.publicity.models import PublicityWindow
from zhicheng.review import service as review
from zhicheng.review.imports import import_decisions
from zhicheng.workspace import working_calendar

HEADER = ["申报编号", "环节", "处理结果", "意见", "经办人", "处理单位", "处理时间"]


class Crash(Exception):
    """The process dies before the transaction commits."""


@pytest.fixture
def waits():
    return []


def _push(app, client, max_attempts=3) -> dict:
    return push_hall(sessions=app.sessions, client=client, now=app.clock.now(), chunk_size=10,
                     max_attempts=max_attempts)


def _on_hall(hall, app, submission_ids) -> dict[str, tuple[str, str, str]]:
    """Each application's submission at the hall (whose phone gets the SMS): sid -> (id, phone, name)."""
    people = {}
    with app.sessions() as s:
        for a in s.scalars(select(Application).where(Application.submission_id.in_(submission_ids))):
            p = s.get(Applicant, a.applicant_id)
            people[a.submission_id] = (p.id_number, p.phone, p.name)
    for sid, (id_number, phone, name) in people.items():
        hall.add_submission({"submission_id": sid, "revision": 1, "track": "评审", "batch_year": 2026,
                             "applicant": {"name": name, "id_number": id_number, "phone": phone}, "materials": []})
    return people


def _notices(hall, template) -> list[dict]:
    return [n for n in hall.notifications() if n["template"] == template]


def _queued(app, kind) -> list[str]:
    with app.sessions() as s:
        return list(s.scalars(select(OutboxItem.dedupe_key).where(OutboxItem.kind == kind).order_by(OutboxItem.id)))


def test_passing_review_is_noticed_once_through_a_crash_a_second_import_and_lost_answers(
        app, hall, standin_credentials, waits, tmp_path):
    with unit_of_work(app.sessions) as s:
        a = validated(s, app.config, n=1)
        review.enter_chain(session=s, application_id=a.id, now=app.clock.now(), config=app.config)
        sid, chain = a.submission_id, list(a.chain)
    (id_number, phone, name), = _on_hall(hall, app, [sid]).values()
    kinds = app.config.chains.kinds
    offices = [stage for stage in chain if kinds[stage] == "review"]
    assert chain[chain.index(offices[-1]) + 1] == "评前公示"
    app.clock.set(dt.datetime(2026, 6, 20, 18, 0))
    path = write_csv(tmp_path / "decisions.csv", HEADER, [
        [sid, stage, "通过", "", "王芳", "泰州市职称办", f"2026-06-{10 + i:02d} 09:30"]
        for i, stage in enumerate(offices)])

    with pytest.raises(Crash), unit_of_work(app.sessions) as s:   # dies before the commit
        import_decisions(session=s, path=path, config=app.config, now=app.clock.now())
        raise Crash
    assert _queued(app, "passed_review") == []
    for _ in range(2):                                               # the re-run, then the same file again
        with unit_of_work(app.sessions) as s:
            import_decisions(session=s, path=path, config=app.config, now=app.clock.now())
    assert _queued(app, "passed_review") == [f"passed_review:{sid}:r1"]

    hall.faults.set("notifications", drop_after_rate=1.0)            # applied at the hall, the answer lost
    with hall_client(hall, standin_credentials, waits) as client:
        first = _push(app, client)
        hall.faults.clear()
        app.clock.advance(hours=1)
        second = _push(app, client)
        third = _push(app, client)
    assert (first["sent"], second["sent"], second["replayed"], third["sent"]) == (0, 1, 1, 0)
    (note,) = _notices(hall, "passed_review")
    assert note["id_number"] == id_number                            # the hall's addressee key, whole
    assert note["params"] == {"name": name, "submission_id": sid, "track": "评审", "stage": offices[-1],
                              "office": "泰州市职称办", "decided_on": f"2026-06-{10 + len(offices) - 1:02d}"}
    assert note["idempotency_key"] == f"passed_review:{sid}:r1"
    (sms,) = hall.sms()
    assert sms["phone"] == phone and offices[-1] in sms["text"]
    assert statuses(app, "hall_notification") == {"sent": 1}
    shown = json.loads(CliRunner().invoke(cli, ["show", sid, "--json"]).stdout)["application"]
    (message,) = [m for m in shown["messages"] if m["kind"] == "passed_review"]      # staff see it, sent
    assert message["status"] == "sent" and offices[-1] in message["summary"] and id_number not in str(shown)


def test_an_office_review_before_the_last_or_a_registration_sends_no_passed_review(app):
    with unit_of_work(app.sessions) as s:
        a = validated(s, app.config, n=2)
        h = validated(s, app.config, n=3, track="历史登记", committee=None, submission_id="LS2026000003")
        for x in (a, h):
            review.enter_chain(session=s, application_id=x.id, now=app.clock.now(), config=app.config)
        ids = [(a.id, a.stage), (h.id, h.stage)]
    for app_id, stage in ids:          # 市单位审核、公示 (more office review follows); 历史登记's only review
        with unit_of_work(app.sessions) as s:
            review.decide(session=s, application_id=app_id, stage=stage, action="approve", actor="张三",
                          office="某单位", reason=None, decided_at=app.clock.now(), now=app.clock.now(),
                          config=app.config)
    assert _queued(app, "passed_review") == []   # 历史登记 hears at registration (issuance), once


def _open(app, tmp_path):
    with unit_of_work(app.sessions) as s:
        return publicity.open_window(session=s, kind="评前", committee_id=COMMITTEE, config=app.config,
                                     calendar=working_calendar(app.config.directory),
                                     now=app.clock.now(), out_dir=tmp_path / "lists")


def test_a_publicity_window_notices_each_listed_applicant_once(app, hall, standin_credentials, waits, tmp_path):
    with unit_of_work(app.sessions) as s:
        e = employer(s, 7, "泰州市第一建筑公司")
        sids = [application(s, app.config, n=n, stage="评前公示", employer_row=e).submission_id for n in (1, 2, 3)]
        application(s, app.config, n=4, stage="评后公示", employer_row=e)      # on no 评前 list
    people = _on_hall(hall, app, sids)

    with pytest.raises(Crash), unit_of_work(app.sessions) as s:      # dies before the commit
        publicity.open_window(session=s, kind="评前", committee_id=COMMITTEE, config=app.config,
                              calendar=working_calendar(app.config.directory), now=app.clock.now(),
                              out_dir=tmp_path / "lists")
        raise Crash
    with app.sessions() as s:
        assert s.scalars(select(PublicityWindow)).all() == [] and _queued(app, "publicity") == []
    window = _open(app, tmp_path)                                     # the re-run
    assert window["applications"] == 3 and _open(app, tmp_path)["window"] is None
    assert _queued(app, "publicity") == [f"publicity:w{window['window']}:{sid}" for sid in sids]

    hall.faults.set("notifications", error_rate=0.5, drop_after_rate=0.3)
    with hall_client(hall, standin_credentials, waits) as client:
        for _ in range(20):
            _push(app, client, max_attempts=50)
            app.clock.advance(hours=1)
            if statuses(app, "hall_notification") == {"sent": 3}:
                break
    assert statuses(app, "hall_notification") == {"sent": 3}
    notes = _notices(hall, "publicity")
    assert sorted(n["params"]["submission_id"] for n in notes) == sids        # each once
    for n in notes:
        id_number, phone, name = people[n["params"]["submission_id"]]
        assert n["id_number"] == id_number and n["params"]["name"] == name
        assert {k: n["params"][k] for k in ("kind", "stage", "window", "opens_on", "closes_on")} == {
            "kind": "评前", "stage": "评前公示", "window": str(window["window"]),
            "opens_on": window["opens_on"], "closes_on": window["closes_on"]}
        assert id_number not in str(n["params"]) and phone not in str(n["params"])
    assert sorted(s["phone"] for s in hall.sms()) == sorted(p[1] for p in people.values())
