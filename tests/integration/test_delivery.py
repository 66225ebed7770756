"""Pushing the outbox to the province and the hall, on both engines, against the stand-ins.

Waits are recorded, not slept: clients get `sleep=waits.append`. Between runs the test
clock moves past the outbox back-off.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.integration.delivery_data import hall_client, province_client, statuses
from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import OutboxItem
from zhicheng.delivery import service as delivery
from zhicheng.demo.delivery_samples import add_certificates, certificate_row
from zhicheng.issuance.models import Certificate
from zhicheng.issuance.service import province_record, revoke


def push(app, client, *, batch_size=500, max_attempts=8):
    return delivery.push_province(sessions=app.sessions, client=client, now=app.clock.now(),
                                  batch_size=batch_size, max_attempts=max_attempts)


def push_until_done(app, client, runs=30, **kw):
    """Push, then move the clock past the back-off, until nothing is pending."""
    summaries = []
    for _ in range(runs):
        summaries.append(push(app, client, **kw))
        if statuses(app).get("pending", 0) == 0:
            return summaries
        app.clock.advance(hours=2)
    raise AssertionError(f"still pending after {runs} runs: {statuses(app)}")


@pytest.fixture
def waits():
    return []


def test_batches_arrive_once_with_stable_keys(app, province, standin_credentials, waits):
    nos = add_certificates(app, 23)
    with province_client(province, standin_credentials, waits) as client:
        summary = push(app, client, batch_size=10)
        again = push(app, client, batch_size=10)
    assert summary["formed"] == 3 and summary["sent"] == 23 and summary["counts"] == {"created": 23}
    assert [b["records"] for b in summary["batches"]] == [10, 10, 3]
    assert again["batches"] == [] and again["sent"] == 0
    assert province.applied_counts() == {no: 1 for no in nos}
    assert statuses(app) == {"sent": 23}
    with app.sessions() as s:
        keys = s.scalars(select(OutboxItem.batch_key).order_by(OutboxItem.id)).all()
    assert len(set(keys)) == 3 and keys[0] == summary["batches"][0]["batch_key"]


def test_exactly_once_under_faults(app, province, standin_credentials, waits):
    nos = add_certificates(app, 120)
    province.faults.set("batch_upsert", error_rate=0.3, drop_after_rate=0.2, drop_before_rate=0.1,
                        truncate_rate=0.1)
    with province_client(province, standin_credentials, waits) as client:
        push_until_done(app, client, batch_size=7)
    assert province.applied_counts() == {no: 1 for no in nos}
    assert statuses(app) == {"sent": 120} and waits
    hit = province.stats["batch_upsert"]
    assert hit.get("dropped_after", 0) and hit.get("truncated", 0)  # applied, answer lost: replayed


def test_crash_after_sending_resends_the_same_batch_with_the_same_key(app, province, standin_credentials,
                                                                     monkeypatch):
    nos = add_certificates(app, 5)
    sent_keys = []

    def crash(key):
        sent_keys.append(key)
        raise SystemExit("killed after the province answered")
    monkeypatch.setattr(delivery, "_after_send", crash)
    with province_client(province, standin_credentials) as client:
        with pytest.raises(SystemExit):
            push(app, client)
        assert statuses(app) == {"pending": 5} and province.applied_counts() == {no: 1 for no in nos}
        monkeypatch.setattr(delivery, "_after_send", sent_keys.append)
        summary = push(app, client)
    assert sent_keys[0] == sent_keys[1] and summary["formed"] == 0
    assert summary["counts"] == {"created": 5}  # the province's stored answer, replayed
    assert province.applied_counts() == {no: 1 for no in nos} and statuses(app) == {"sent": 5}


def test_rejected_record_keeps_the_provinces_error(app, province, standin_credentials):
    nos = add_certificates(app, 3)
    with unit_of_work(app.sessions) as s:
        bad = s.scalar(select(OutboxItem).where(OutboxItem.dedupe_key == f"{nos[1]}:v1"))
        bad.payload = {**bad.payload, "holder_id_number": "123"}
    with province_client(province, standin_credentials) as client:
        summary = push(app, client)
    assert summary["rejected"] == [{"certificate_no": nos[1], "version": 1,
                                    "error": "invalid_field:holder_id_number"}]
    assert statuses(app) == {"sent": 2, "rejected": 1}
    with app.sessions() as s:
        found = delivery.problems(session=s)
    assert found["rejected"] == 1 and found["items"][0]["error"] == "invalid_field:holder_id_number"
    assert found["items"][0]["subject"] == nos[1]


def test_dead_letter_after_max_attempts_then_retried(app, province, standin_credentials, waits):
    nos = add_certificates(app, 4)
    province.faults.set("batch_upsert", error_rate=1.0)
    with province_client(province, standin_credentials, waits) as client:
        outcomes = []
        for _ in range(3):
            outcomes.append(push(app, client, max_attempts=3)["batches"][-1]["outcome"])
            not_yet = push(app, client, max_attempts=3)
            assert not_yet["batches"] == [] or outcomes[-1] == "dead"  # backing off: nothing sent
            app.clock.advance(hours=2)
        assert outcomes == ["retry", "retry", "dead"] and statuses(app) == {"dead": 4}
        with app.sessions() as s:
            assert delivery.problems(session=s)["dead"] == 4
        province.faults.clear()
        with unit_of_work(app.sessions) as s:  # a newer version settles one dead letter
            cert = s.scalar(select(Certificate).where(Certificate.certificate_no == nos[0]))
            revoke(session=s, certificate=cert, reason="测试撤销", now=app.clock.now())
        assert push(app, client, max_attempts=3)["counts"] == {"created": 1}
        assert statuses(app) == {"dead": 3, "superseded": 1, "sent": 1}
        with unit_of_work(app.sessions) as s:
            assert delivery.retry_dead(session=s, now=app.clock.now()) == 3
        summary = push(app, client, max_attempts=3)
    assert summary["counts"] == {"created": 3} and province.applied_counts() == {n: 1 for n in nos}
    assert province.record(nos[0])["version"] == 2


def test_newer_version_wins_and_no_older_one_follows(app, province, standin_credentials):
    nos = add_certificates(app, 3)
    with unit_of_work(app.sessions) as s:  # revoked before the first push: v1 is never sent
        cert = s.scalar(select(Certificate).where(Certificate.certificate_no == nos[0]))
        revoke(session=s, certificate=cert, reason="测试撤销", now=app.clock.now())
    with province_client(province, standin_credentials) as client:
        first = push(app, client)
        with unit_of_work(app.sessions) as s:  # revoked after: v2 goes as an update
            cert = s.scalar(select(Certificate).where(Certificate.certificate_no == nos[1]))
            revoke(session=s, certificate=cert, reason="测试撤销", now=app.clock.now())
        second = push(app, client)
    assert first["superseded"] == 1 and first["sent"] == 3
    assert second["counts"] == {"updated": 1}
    assert province.record(nos[0])["version"] == 2 and province.record(nos[0])["status"] == "revoked"
    assert province.record(nos[1])["version"] == 2
    assert province.applied_counts() == {nos[0]: 1, nos[1]: 2, nos[2]: 1}
    assert statuses(app) == {"sent": 4, "superseded": 1}


def test_a_certificate_in_an_open_batch_holds_its_newer_version_back(app, province, standin_credentials,
                                                                      waits):
    nos = add_certificates(app, 2)
    province.faults.set("batch_upsert", error_rate=1.0)
    with province_client(province, standin_credentials, waits) as client:
        assert push(app, client)["batches"][0]["outcome"] == "retry"   # v1 in an open batch
        with unit_of_work(app.sessions) as s:
            cert = s.scalar(select(Certificate).where(Certificate.certificate_no == nos[0]))
            revoke(session=s, certificate=cert, reason="测试撤销", now=app.clock.now())
        province.faults.clear()
        app.clock.advance(hours=2)
        first = push(app, client)     # the open batch (v1) first; v2 waits for it
        second = push(app, client)
    assert first["counts"] == {"created": 2} and second["counts"] == {"updated": 1}
    assert province.record(nos[0])["version"] == 2


def test_hall_returns_and_notifications_once(app, hall, standin_credentials, waits):
    from zhicheng.delivery.hall import push_hall
    from zhicheng.outbox import enqueue
    hall.add_submission({"submission_id": "S1", "revision": 1, "track": "评审", "batch_year": 2026,
                         "applicant": {"name": "张三", "id_number": "x", "phone": "13800000001"},
                         "materials": []})
    now = app.clock.now()
    with unit_of_work(app.sessions) as s:
        key = "return:S1:r1:评审申报"
        enqueue(session=s, target="hall_return", kind="return", dedupe_key=key, now=now,
                payload={"submission_id": "S1", "revision": 1, "stage": "评审申报",
                         "reasons": [{"code": "x", "message": "请补充材料"}], "idempotency_key": key})
        enqueue(session=s, target="hall_return", kind="return", dedupe_key="return:NOPE:r1:评审申报", now=now,
                payload={"submission_id": "NOPE", "revision": 1, "stage": "评审申报",
                         "reasons": [{"code": "x", "message": "请补充材料"}],
                         "idempotency_key": "return:NOPE:r1:评审申报"})
        enqueue(session=s, target="hall_notification", kind="certificate_issued", dedupe_key="issued:N1:v1", now=now,
                payload={"id_number": "x", "template": "issued", "params": {"name": "张三"},
                         "idempotency_key": "issued:N1:v1"})
    hall.faults.set("returns", drop_after_rate=1.0)
    with hall_client(hall, standin_credentials, waits) as client:
        first = push_hall(sessions=app.sessions, client=client, now=now, chunk_size=10, max_attempts=3)
        hall.faults.clear()
        app.clock.advance(hours=1)
        second = push_hall(sessions=app.sessions, client=client, now=app.clock.now(), chunk_size=10,
                           max_attempts=3)
    assert first["paused"] and first["retry"] == 1 and first["sent"] == 0
    assert second["sent"] == 2 and second["replayed"] == 1  # applied the first time, answer lost
    assert [r["subject"] for r in second["rejected"]] == ["NOPE"]
    assert hall.sms_sent == 2 and len(hall.returns()) == 1
    assert statuses(app, "hall_return") == {"sent": 1, "rejected": 1}
    assert statuses(app, "hall_notification") == {"sent": 1}


def _notices(app, n, *, first=0):
    from zhicheng.outbox import enqueue
    keys = [f"issued:N{first + i}:v1" for i in range(n)]
    with unit_of_work(app.sessions) as s:
        for key in keys:
            enqueue(session=s, target="hall_notification", kind="certificate_issued", dedupe_key=key,
                    now=app.clock.now(), payload={"id_number": "x", "template": "issued",
                                                  "params": {"name": "张三"}, "idempotency_key": key})
    return keys


def _hall_items(app) -> dict[str, tuple[str, int]]:
    with app.sessions() as s:
        return {k: (st, n) for k, st, n in s.execute(select(
            OutboxItem.dedupe_key, OutboxItem.status, OutboxItem.attempts).where(OutboxItem.target.like("hall_%")))}


def test_hall_items_go_several_at_once_and_never_more_than_the_bound(app, hall, standin_credentials, waits):
    from zhicheng.delivery.hall import push_hall
    hall.add_submission({"submission_id": "S1", "revision": 1, "track": "评审", "batch_year": 2026,
                         "applicant": {"name": "张三", "id_number": "x", "phone": "13800000001"},
                         "materials": []})
    keys = _notices(app, 24)
    hall.faults.set("notifications", delay=0.2)     # the hall's own latency, so requests overlap
    with hall_client(hall, standin_credentials, waits) as client:
        got = push_hall(sessions=app.sessions, client=client, now=app.clock.now(), chunk_size=12,
                        max_attempts=3, in_flight=4)
    assert got["sent"] == 24 and not got["paused"]
    assert 1 < hall.peak_in_flight["notifications"] <= 4
    assert sorted(n["idempotency_key"] for n in hall.notifications()) == sorted(keys)
    assert hall.sms_sent == 24 and statuses(app, "hall_notification") == {"sent": 24}


def test_a_hall_outage_mid_chunk_keeps_what_was_answered_and_loses_nothing(app, hall, standin_credentials,
                                                                         waits):
    """A return the hall keeps failing while notifications go beside it: what was answered
    is recorded, what had not started is untouched, and the next run sends the rest once."""
    from zhicheng.delivery.hall import push_hall
    from zhicheng.outbox import enqueue
    hall.add_submission({"submission_id": "S1", "revision": 1, "track": "评审", "batch_year": 2026,
                         "applicant": {"name": "张三", "id_number": "x", "phone": "13800000001"},
                         "materials": []})
    ret = "return:S1:r1:评审申报"
    with unit_of_work(app.sessions) as s:   # first in the queue
        enqueue(session=s, target="hall_return", kind="return", dedupe_key=ret, now=app.clock.now(),
                payload={"submission_id": "S1", "revision": 1, "stage": "评审申报",
                         "reasons": [{"code": "x", "message": "请补充材料"}], "idempotency_key": ret})
    keys = _notices(app, 30)
    hall.faults.set("returns", error_rate=1.0)
    with hall_client(hall, standin_credentials, waits) as client:
        first = push_hall(sessions=app.sessions, client=client, now=app.clock.now(), chunk_size=10,
                          max_attempts=3, in_flight=4)
        items = _hall_items(app)
        at_hall = [n["idempotency_key"] for n in hall.notifications()]
        assert first["paused"] and first["retry"] == 1 and items[ret] == ("pending", 1)
        assert first["sent"] == len(at_hall) < 30                 # the chunk stopped starting new ones
        assert all(items[k] == ("sent", 1) for k in at_hall)
        assert all(items[k] == ("pending", 0) for k in keys if k not in at_hall)

        hall.faults.clear()
        app.clock.advance(hours=1)
        push_hall(sessions=app.sessions, client=client, now=app.clock.now(), chunk_size=10, max_attempts=3,
                  in_flight=4)
    assert sorted(n["idempotency_key"] for n in hall.notifications()) == sorted(keys)   # each once
    assert len(hall.returns()) == 1 and hall.sms_sent == 31
    assert set(_hall_items(app).values()) <= {("sent", 1), ("sent", 2)}


def reconcile(app, client, full=False, batch_year=None):
    from zhicheng.delivery import reconcile as rec
    results = []
    for region, year in _scopes(app, batch_year):
        with unit_of_work(app.sessions) as s:
            results.append(rec.check_scope(session=s, client=client, region=region, year=year, full=full,
                                           now=app.clock.now()).as_dict())
    return rec.summarize(results, batch_year=batch_year, full=full)


def _scopes(app, batch_year):
    from zhicheng.delivery import reconcile as rec
    with app.sessions() as s:
        return rec.scopes(session=s, batch_year=batch_year)


def test_reconcile_finds_and_requeues_missing_and_stale(app, province, standin_credentials):
    nos = add_certificates(app, 6) + add_certificates(app, 2, region="320100")
    with province_client(province, standin_credentials) as client:
        push(app, client)
        assert reconcile(app, client)["clean"]
        # the province loses two records, holds an old version of another, and one we never had
        with province.store.tx() as db:
            db.execute("DELETE FROM certificates WHERE certificate_no IN (?, ?)", (nos[0], nos[2]))
        with unit_of_work(app.sessions) as s:
            cert = s.scalar(select(Certificate).where(Certificate.certificate_no == nos[1]))
            cert.version, cert.status = 2, "revoked"   # revoked here without an outbox item
            cert.revoked_at, cert.revoke_reason = app.clock.now(), "撤销"
        # a record the province holds that our registry never had
        client.batch_upsert([province_record(Certificate(**certificate_row(50)), None)],
                            idempotency_key="elsewhere")
        counted = reconcile(app, client)           # counts differ in 321200 only: compared there
        assert [(x["region"], x["compared"]) for x in counted["scopes"]] == [("320100", False),
                                                                             ("321200", True)]
        assert counted["differences"] == {"missing": 2, "extra": 1, "stale": 1, "different": 0}
        assert counted["requeued"] == 3
        assert reconcile(app, client)["requeued"] == 0   # already queued: not twice
        push(app, client)
        after = reconcile(app, client, full=True)
    assert after["differences"] == {"missing": 0, "extra": 1, "stale": 0, "different": 0}
    assert province.record(nos[0])["version"] == 1 and province.record(nos[1])["status"] == "revoked"
    assert province.applied_counts()[nos[1]] == 2  # v1 by the push, v2 by the re-queue


def test_reconcile_report_is_an_xlsx_for_staff(app, province, standin_credentials, tmp_path):
    import openpyxl

    from zhicheng.delivery import reconcile as rec
    add_certificates(app, 3)
    with province_client(province, standin_credentials) as client:
        summary = reconcile(app, client)
    path = rec.write_report(summary, reports_dir=tmp_path, now=app.clock.now())
    sheet = openpyxl.load_workbook(path)["差异"]
    cells = [c.value for row in sheet.iter_rows() for c in row if c.value]
    assert "省平台缺少" in cells and summary["differences"]["missing"] == 3
