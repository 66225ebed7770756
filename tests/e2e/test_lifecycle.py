"""Done criterion of the certificate lifecycle (issue 22), against the stand-ins with
faults on: a 历史登记 then a 补办 of it; a 补办 of a former platform's certificate and a
换发 of the certificate it produced (one of ours); a 补办 whose prior certificate cannot
be found (returned with the seed's advice); a cancellation (取消申请) before and after
the point of no return. Year-round: submitted in December and
January, outside the declaration period. Each is checked at the province, record by
record: one valid certificate per person and qualification, every replaced one revoked
there, origin and dates kept through every generation."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from tests.e2e.lifecycle_data import (NANJING, former_platform_record, person, province_year,
                                      submission)
from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import Application, OutboxItem
from zhicheng.domain import lineage
from zhicheng.domain.certificate_numbers import make_number
from zhicheng.issuance.models import Certificate

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("no_prefect_api", "year_dir")]
DECEMBER = "2026-12-03T10:00:00+08:00"
JANUARY = "2027-01-15T10:00:00+08:00"
LEGACY_NO = "32012009300123"    # the former platform's 14-digit format
HISTORIC = {"certificate_no": LEGACY_NO, "obtained_by": "初定", "approved_on": "2009-12-03",
            "issued_on": "2009-12-20", "issuer": NANJING, "issuer_region_code": "320100",
            "committee_name": None}


# another holder's certificate of the 历史登记's (issuer, year): the province holds the rest
# of a former year that we hold one registration of, which reconcile must not call extra
NEIGHBOUR = {**former_platform_record(person(3)), "certificate_no": make_number("320100", 2009, 3, 77),
             "approved_on": "2009-12-03", "issued_on": "2009-12-20"}


@pytest.fixture
def year_dir(tmp_path):
    return province_year(tmp_path / "year", [former_platform_record(person(1)), NEIGHBOUR])


@pytest.fixture
def faulty(standins, monkeypatch):
    from zhicheng.tasks import delivery as tasks
    monkeypatch.setattr(tasks, "CLIENT_OPTIONS", {"sleep": lambda s: None})
    standins.province.faults.reseed(2)
    standins.province.faults.set("get_certificate", error_rate=0.3, drop_before_rate=0.1)
    standins.province.faults.set("batch_upsert", error_rate=0.2, drop_after_rate=0.5)
    standins.hall.faults.set("submissions", duplicate_rate=0.5)
    standins.hall.faults.set("cancellation_answer", error_rate=0.3, drop_after_rate=0.3)
    return standins


def submit(hall, *subs) -> None:
    for sub, files in subs:
        hall.add_submission(sub, files)


def run(app, as_of: str, between=None) -> dict:
    """What staff run: intake, validate (with its look-ups), the office's approval of
    every application waiting at 审核, issue, and push until nothing is pending."""
    from zhicheng.flows.intake import intake
    from zhicheng.flows.issuance import issue
    from zhicheng.flows.validation import validate
    from zhicheng.review import service as review
    from zhicheng.runtime import run_flow
    run_flow(intake, as_of=as_of)
    checked = run_flow(validate, as_of=as_of)
    if between is not None:   # what applicants do meanwhile, taken up by the next intake
        between()
        run_flow(intake, as_of=as_of)
    now = dt.datetime.fromisoformat(as_of)
    with unit_of_work(app.sessions) as s:
        for a in s.scalars(select(Application).where(Application.status == "in_review")):
            review.decide(session=s, application_id=a.id, stage=a.stage, action="approve", actor="审核员",
                          office="南京市职称办", reason=None, decided_at=now, now=now, config=app.config)
    issued = run_flow(issue, as_of=as_of)
    push_all(app, now)
    return {"validate": checked, "issue": issued}


def push_all(app, moment: dt.datetime) -> dt.datetime:
    from zhicheng.flows.delivery import push
    from zhicheng.runtime import run_flow
    for _ in range(12):
        run_flow(push, as_of=moment.isoformat())
        with app.sessions() as s:
            if not s.scalars(select(OutboxItem).where(OutboxItem.status == "pending")).first():
                break
        moment += dt.timedelta(hours=2)   # past the outbox's back-off
    return moment


def show(subject: str) -> dict:
    from typer.testing import CliRunner

    from zhicheng.cli.main import app as cli
    result = CliRunner().invoke(cli, ["show", subject, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def status_of(app, sid: str) -> str:
    with app.sessions() as s:
        return s.scalar(select(Application.status).where(Application.submission_id == sid))


def certificate_of(app, sid: str) -> Certificate:
    with app.sessions() as s:
        return s.scalar(select(Certificate).join(Application, Application.id == Certificate.application_id)
                        .where(Application.submission_id == sid))


def test_history_reissue_and_exchange_at_the_province(app, faulty):
    hall, province = faulty.hall, faulty.province
    old = former_platform_record(person(1))
    unknown = make_number("320100", 2015, 3, 4321)   # well formed, held nowhere
    submit(hall,
           submission("LC-H1", "历史登记", person(0), submitted_at=DECEMBER, historical=HISTORIC),
           submission("LC-F1", "补办", person(1), submitted_at=DECEMBER, prior=old["certificate_no"],
                      prior_obtained_by="评审"),
           submission("LC-U1", "补办", person(2), submitted_at=DECEMBER, prior=unknown,
                      prior_obtained_by="初定"))
    first = run(app, DECEMBER)
    assert first["validate"]["province"]["asked"] == 3 and first["validate"]["awaiting_province"] == 0

    # 历史登记: the historic certificate as it was, no e-certificate
    assert status_of(app, "LC-H1") == "registered"
    held = province.record(LEGACY_NO)
    assert {k: held[k] for k in HISTORIC} == HISTORIC
    assert (held["version"], held["status"], held["document_sha256"]) == (1, "valid", None)
    assert certificate_of(app, "LC-H1").document_path is None

    # 补办 of the former platform's certificate: it is revoked at the province, once
    new_f = certificate_of(app, "LC-F1")
    was = province.record(old["certificate_no"])
    assert (was["status"], was["version"]) == ("revoked", 2)
    assert {k: v for k, v in was.items() if k not in ("status", "version")} == \
        {k: v for k, v in old.items() if k not in ("status", "version")}
    now_f = province.record(new_f.certificate_no)
    assert now_f["replaces"] == old["certificate_no"] and now_f["status"] == "valid"
    assert (now_f["obtained_by"], now_f["approved_on"], now_f["committee_name"]) == \
        ("评审", "2016-12-03", old["committee_name"])
    assert now_f["issued_on"] == "2026-12-03"    # year-round: December is no obstacle

    # the prior nobody holds: returned with the seed's advice, no certificate
    assert status_of(app, "LC-U1") == "returned" and certificate_of(app, "LC-U1") is None
    (ret,) = [r for r in hall.returns() if r["submission_id"] == "LC-U1"]
    (reason,) = [x for x in ret["reasons"] if x["code"] == "reissue.prior_certificate_not_found"]
    assert unknown in reason["message"] and "历史职称数据登记" in reason["message"]

    # each applicant heard once, faults or not: the 历史登记 at its registration; the 补办 on
    # passing review (seed 003:42), then of its certificate
    heard = [(n["id_number"], n["template"]) for n in hall.notifications()]
    assert sorted(heard) == sorted([(person(0)["id_number"], "passed_review"),
                                    (person(1)["id_number"], "passed_review"), (person(1)["id_number"], "issued")])

    # January: a 补办 of the registered history, a 换发 of our December certificate
    submit(hall,
           submission("LC-H2", "补办", person(0), submitted_at=JANUARY, prior=LEGACY_NO,
                      prior_obtained_by="初定"),
           submission("LC-F2", "换发", person(1), submitted_at=JANUARY, prior=new_f.certificate_no,
                      prior_obtained_by="评审"))
    run(app, JANUARY)
    new_h = certificate_of(app, "LC-H2")
    assert new_h.replaces == LEGACY_NO and new_h.document_path
    assert (province.record(LEGACY_NO)["status"], province.record(LEGACY_NO)["version"]) == ("revoked", 2)
    for rec, origin in ((province.record(new_h.certificate_no), HISTORIC),
                        (province.record(certificate_of(app, "LC-F2").certificate_no), old)):
        assert rec["status"] == "valid" and rec["issued_on"] == "2027-01-15"
        assert (rec["obtained_by"], rec["approved_on"], rec["committee_name"]) == \
            (origin["obtained_by"], origin["approved_on"], origin["committee_name"])
    assert (province.record(new_f.certificate_no)["status"], province.record(new_f.certificate_no)["version"]) \
        == ("revoked", 2)

    # staff see the whole lineage with `zhicheng show`, ID numbers masked
    shown = show(person(1)["id_number"])
    assert [(c["certificate_no"], c["status"], c["replaced_by"]) for c in shown["certificates"]] == [
        (old["certificate_no"], "revoked", new_f.certificate_no),
        (new_f.certificate_no, "revoked", certificate_of(app, "LC-F2").certificate_no),
        (certificate_of(app, "LC-F2").certificate_no, "valid", None)]
    assert person(1)["id_number"] not in json.dumps(shown, ensure_ascii=False)
    returned = show("LC-U1")["application"]
    assert returned["status"] == "returned" and returned["lookup"]["outcome"] == "not_found"
    assert any("历史职称数据登记" in m["summary"] for m in returned["messages"] if m["to"] == "hall_return")

    records = [r for r in province.records() if r["certificate_no"] != NEIGHBOUR["certificate_no"]]
    assert lineage.several_valid(records) == {} and lineage.replaced_still_valid(records) == []
    assert len(records) == 5                       # 1 former + the 历史登记 + 3 of ours, none twice
    # every version arrived exactly once: created once, and revoked once where replaced
    twice = {LEGACY_NO, new_f.certificate_no}
    assert province.applied_counts() == {NEIGHBOUR["certificate_no"]: 0} | {
        r["certificate_no"]: 2 if r["certificate_no"] in twice else 1 for r in records}
    # the faults happened: look-ups failed and were asked again; a batch was applied and
    # its answer lost, and its replay applied nothing twice
    assert set(province.stats["get_certificate"]) - {"200", "404"}
    assert province.stats["batch_upsert"].get("dropped_after")

    # reconcile covers every replaced and registered certificate by number, whatever its
    # issuer or year: the province "losing" the former platform's revocation is found and
    # sent again; the province's other certificates of the historic year are no difference
    from zhicheng.flows.delivery import reconcile
    from zhicheng.runtime import run_flow
    with province.store.tx() as db:
        db.execute("UPDATE certificates SET version = 1, body = ? WHERE certificate_no = ?",
                   (json.dumps(old, ensure_ascii=False), old["certificate_no"]))
    report = run_flow(reconcile, batch_year=2026, as_of="2027-01-16T09:00:00+08:00")
    replaced = [sc for sc in report["scopes"] if sc["region"] == "*"]
    assert replaced and replaced[0]["local"] == 3 and replaced[0]["requeued"] == [old["certificate_no"]]
    push_all(app, dt.datetime(2027, 1, 16, 10, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    assert province.record(old["certificate_no"])["status"] == "revoked"
    again = run_flow(reconcile, batch_year=2026, as_of="2027-01-17T09:00:00+08:00")
    assert again["clean"], again["rows"]


def test_a_cancellation_before_and_after_the_point_of_no_return(app, faulty):
    hall, province = faulty.hall, faulty.province
    old = former_platform_record(person(1))
    submit(hall,
           submission("LC-C1", "补办", person(1), submitted_at=DECEMBER, prior=old["certificate_no"]),
           submission("LC-C2", "历史登记", person(0), submitted_at=DECEMBER, historical=HISTORIC))
    cancelled: list[str] = []
    run(app, DECEMBER, between=lambda: cancelled.append(hall.cancel("LC-C1")))
    # before: validated and in review, now withdrawn; nothing of it reaches the province
    assert status_of(app, "LC-C1") == "withdrawn" and certificate_of(app, "LC-C1") is None
    last = show("LC-C1")["application"]["decisions"][-1]          # why it ended, in its history
    assert (last["action"], last["actor"]) == ("withdraw", "申请人") and cancelled[0] in last["reason"]
    assert province.record(old["certificate_no"]) == old
    assert status_of(app, "LC-C2") == "registered"
    # after: registered at the province, the cancellation is refused with the reason
    cancelled.append(hall.cancel("LC-C2"))
    run(app, JANUARY)
    answers = hall.cancellation_answers()
    assert answers[cancelled[0]]["accepted"] is True
    refused = answers[cancelled[1]]
    assert refused["accepted"] is False and refused["reasons"][0]["code"] == "cancellation.too_late_issued"
    assert "LC-C2" in refused["reasons"][0]["message"]
    assert status_of(app, "LC-C2") == "registered" and province.record(LEGACY_NO)["status"] == "valid"
    assert [s["kind"] for s in hall.sms()].count("cancellation") == 2     # one answer each, faults or not
