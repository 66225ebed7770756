"""The 学信 education sync against the 学信 stand-in: every outcome, reports, outages, reuse."""
import datetime as dt

import pytest
from sqlalchemy import select

from zhicheng.clock import SHANGHAI
from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import Finding
from zhicheng.education import service as education
from zhicheng.education.models import ChsiAnswer, EducationCheck
from zhicheng.settings import Settings

from education_data import RECORD, application, entry, person

pytest.importorskip("zhicheng.connectors.chsi", reason="the 学信 connector (issue 3) has not landed yet")



def sync(app, ids=None):
    from zhicheng.education.fetch import gateway_from_settings
    with app.sessions() as s:
        ids = ids if ids is not None else education.pending(session=s)
    with gateway_from_settings(Settings(), app.config) as gateway:
        return education.sync_chunk(sessions=app.sessions, gateway=gateway, application_ids=ids,
                                    config=app.config, now=app.clock.now(), files_root=app.settings.home)


def seed(app, **kw):
    with unit_of_work(app.sessions) as s:
        return application(s, files_root=app.settings.home, **kw).id


def outcome_of(app, app_id):
    with app.sessions() as s:
        checks = s.scalars(select(EducationCheck).where(EducationCheck.application_id == app_id)).all()
        findings = s.scalars(select(Finding).where(Finding.application_id == app_id)).all()
        return {c.subject: c.outcome for c in checks}, sorted(f.code for f in findings), findings, checks


def hold(chsi, n, records, name=None):
    id_number, default_name = person(n)
    chsi.add_person(id_number, name or default_name, records)


def test_verified_mismatched_and_not_held(app, chsi_env):
    hold(chsi_env, 1, [RECORD])
    hold(chsi_env, 2, [RECORD])
    ok = seed(app, n=1, entries=[entry()])
    off = seed(app, n=2, entries=[entry(major="电子工程")])
    gone = seed(app, n=3, entries=[entry()])          # 学信 holds nothing for person 3
    summary = sync(app)
    assert summary["outcomes"] == {"verified": 1, "mismatched": 1, "not_held": 1}
    assert outcome_of(app, ok)[:2] == ({"entry:0": "verified"}, [])
    checks, codes, findings, _ = outcome_of(app, off)
    assert checks == {"entry:0": "mismatched"} and codes == ["chsi.mismatch"]
    assert "专业" in findings[0].message and findings[0].source == "chsi" and findings[0].field == "education[0]"
    checks, codes, findings, _ = outcome_of(app, gone)
    assert checks == {"entry:0": "not_held"} and codes == ["chsi.not_held"]
    assert findings[0].severity == "warning"
    with app.sessions() as s:
        assert education.pending(session=s) == []


def test_a_name_that_does_not_match_the_id_number(app, chsi_env):
    hold(chsi_env, 4, [RECORD], name="别人")
    a = seed(app, n=4, entries=[entry()])
    sync(app)
    checks, codes, findings, _ = outcome_of(app, a)
    assert checks == {"entry:0": "no_match"} and codes == ["chsi.name_mismatch"]


def test_an_entry_fetched_from_chsi_is_filled(app, chsi_env):
    hold(chsi_env, 5, [RECORD])
    a = seed(app, n=5, entries=[{"kind": "学历", "level": "本科", "chsi_fetched": True}])
    sync(app)
    _, codes, _, checks = outcome_of(app, a)
    assert codes == [] and checks[0].outcome == "verified"
    assert checks[0].record["filled"]["school"] == "南京大学"


def test_reports_valid_expired_someone_elses_unknown_unreadable(app, chsi_env):
    id_number, name = person(6)
    other_id, other_name = person(7)
    hold(chsi_env, 6, [RECORD])
    chsi_env.add_report("GOOD000000000001", "2099-12-31", id_number, name, RECORD)
    chsi_env.add_report("OLD0000000000002", "2026-03-31", id_number, name, RECORD)
    chsi_env.add_report("ELSE000000000003", "2099-12-31", other_id, other_name, RECORD)
    a = seed(app, n=6, entries=[entry()], reports=[
        {"code": "GOOD000000000001"}, {"code": "OLD0000000000002", "valid_until": "2026-03-31"},
        {"code": "ELSE000000000003", "name": other_name, "id_number": other_id},
        {"code": "NONE000000000004"}, {"code": None}])
    sync(app)
    checks, codes, findings, _ = outcome_of(app, a)
    assert checks == {"entry:0": "verified", "report:R0": "valid", "report:R1": "expired",
                      "report:R2": "other_person", "report:R3": "unknown", "report:R4": "unreadable"}
    assert codes == ["chsi.report_expired", "chsi.report_other_person", "chsi.report_unknown",
                     "chsi.report_unreadable"]
    expired = next(f for f in findings if f.code == "chsi.report_expired")
    assert expired.material_id == "R1" and "2026-03-31" in expired.message


def test_chsi_down_for_the_whole_run_then_up(app, chsi_env):
    hold(chsi_env, 8, [RECORD])
    a = seed(app, n=8, entries=[entry()], reports=[{"code": "GOOD000000000008"}])
    chsi_env.add_report("GOOD000000000008", "2099-12-31", *person(8), RECORD)
    chsi_env.faults.set("*", error_rate=1.0)
    summary = sync(app)
    assert summary["outage"] is True
    checks, codes, _, _ = outcome_of(app, a)
    assert set(checks.values()) == {"unavailable"} and codes == []   # never a false "not held"
    with app.sessions() as s:
        assert education.pending(session=s) == [a]
    chsi_env.faults.clear()
    assert sync(app)["outage"] is False
    checks, codes, _, _ = outcome_of(app, a)
    assert checks == {"entry:0": "verified", "report:R0": "valid"} and codes == []


def test_answers_are_kept_and_reused_within_their_age(app, chsi_env):
    hold(chsi_env, 9, [RECORD])
    a = seed(app, n=9, entries=[entry()])
    assert sync(app)["fetched"] == 1
    again = sync(app, [a])
    assert again["fetched"] == 0 and again["reused"] == 1
    assert chsi_env.stats["records"]["200"] == 1
    with app.sessions() as s:
        kept = s.scalars(select(ChsiAnswer)).all()
    assert [(k.kind, k.status) for k in kept] == [("records", 200)]
    assert kept[0].body["records"][0]["certificate_no"] == RECORD["certificate_no"]
    app.clock.advance(days=31)  # older than answer_max_age_days: asked again
    assert sync(app, [a])["fetched"] == 1 and chsi_env.stats["records"]["200"] == 2


def test_a_resubmission_is_checked_again(app, chsi_env):
    from zhicheng.db.models import Application
    hold(chsi_env, 10, [RECORD])
    a = seed(app, n=10, entries=[entry(major="错的专业")])
    sync(app)
    with unit_of_work(app.sessions) as s:
        row = s.get(Application, a)
        row.current_revision = 2
        from zhicheng.db.models import ApplicationRevision
        s.add(ApplicationRevision(application_id=a, revision=2, payload={
            "applicant": {"name": person(10)[1], "id_number": person(10)[0]}, "education": [entry()]},
            payload_sha256="1" * 64, valid=True, received_at=dt.datetime(2026, 6, 2, 9, 0, tzinfo=SHANGHAI)))
    with app.sessions() as s:
        assert education.pending(session=s) == [a]
    sync(app)
    with app.sessions() as s:
        rev2 = s.scalars(select(EducationCheck).where(EducationCheck.revision == 2)).all()
    assert [c.outcome for c in rev2] == ["verified"]


def test_a_report_of_another_education_is_a_mismatch(app, chsi_env):
    id_number, name = person(11)
    hold(chsi_env, 11, [RECORD])
    chsi_env.add_report("DIFF000000000011", "2099-12-31", id_number, name, {**RECORD, "major": "土木工程"})
    a = seed(app, n=11, entries=[entry()], reports=[{"code": "DIFF000000000011"}])
    sync(app)
    checks, codes, findings, _ = outcome_of(app, a)
    assert checks["entry:0"] == "verified" and codes == ["chsi.report_mismatch"]
    assert "专业" in findings[0].message


def test_the_sync_stays_under_the_rate_limit_without_429s(app, chsi_env, monkeypatch):
    """学信 allows 10 requests a second (bursts of 3, so scheduling jitter of a loaded
    machine is no 429); the connector is configured with the same rate. Without the
    client-side limit the sync's concurrent requests would exceed it at once."""
    chsi_env.set_rate_limit(10, 3)
    monkeypatch.setenv("ZHICHENG_CHSI_RATE_PER_SECOND", "10")
    people = range(20, 45)
    for n in people:
        hold(chsi_env, n, [RECORD])
    ids = [seed(app, n=n, entries=[entry()]) for n in people]
    summary = sync(app, ids)
    assert summary["outage"] is False and summary["outcomes"] == {"verified": len(ids)}
    assert chsi_env.stats["records"].get("429", 0) == 0
    assert chsi_env.stats["records"]["200"] == len(ids)
