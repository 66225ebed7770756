"""学信 in the validation verdict, against the 学信 stand-in and the real education sync:
an application whose only errors are 学信's is returned, validation's and 学信's errors
reach the applicant in one return, once; a 学信 outage or a check not yet made returns
nobody (the application waits, still received)."""
from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

import hostile_pdfs as h
from education_data import report_pdf
from validation_data import replace_file, store, submission
from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import Application, OutboxItem
from zhicheng.education import service as education
from zhicheng.settings import Settings

pytest.importorskip("zhicheng.connectors.chsi", reason="the 学信 connector (issue 3) has not landed yet")
CHINESE = re.compile(r"[\u4e00-\u9fff]")




def record_of(sub: dict) -> dict:
    """What 学信 holds for the submission's declared entry."""
    e = sub["education"][0]
    return {"record_id": "R1", "study_form": "普通全日制", "enrollment_date": "2001-09-01",
            **{k: e[k] for k in ("kind", "level", "school", "major", "graduation_date", "certificate_no")}}


def applicant(chsi, n: int, *, report: str | None = None, report_of=None, valid_until="2099-12-31",
              holds: dict | None = None, tmp=None) -> tuple[dict, dict]:
    """A clean submission whose person 学信 holds; with `report`, a 学信 report (M06)
    carrying that online code, registered at 学信 for `report_of` (default: the applicant)."""
    sub, files = submission(n)
    who = sub["applicant"]
    chsi.add_person(who["id_number"], who["name"], [holds or record_of(sub)])
    if report:
        owner = report_of or who
        chsi.add_report(report, valid_until, owner["id_number"], owner["name"], record_of(sub))
        path = tmp / f"report-{n}.pdf"
        report_pdf(path, code=report, name=owner["name"], id_number=owner["id_number"], valid_until=valid_until)
        data = path.read_bytes()
        files["M06"] = data
        sub["materials"].append({"material_id": "M06", "type": "chsi_report", "file_name": "学信备案表.pdf",
                                 "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    return sub, files


def put(app, sub, files) -> int:
    with unit_of_work(app.sessions) as s:
        return store(s, sub, files, files_root=app.settings.home, committees=app.config.committees,
                     chsi_checked=False).id


def sync(app) -> dict:
    from zhicheng.education.fetch import gateway_from_settings
    with app.sessions() as s:
        ids = education.pending(session=s)
    with gateway_from_settings(Settings(), app.config) as gateway:
        return education.sync_chunk(sessions=app.sessions, gateway=gateway, application_ids=ids,
                                    config=app.config, now=app.clock.now(), files_root=app.settings.home)



def returns(app) -> dict[str, list[dict]]:
    with app.sessions() as s:
        items = s.scalars(select(OutboxItem).where(OutboxItem.target == "hall_return").order_by(OutboxItem.id))
        out: dict[str, list[dict]] = {}
        for o in items:
            out.setdefault(o.payload["submission_id"], []).append(o.payload)
        return out


def status(app, app_id: int) -> str:
    with app.sessions() as s:
        return s.get(Application, app_id).status


def test_chsi_errors_alone_return_the_application_once(app, chsi_env, validate_pending, tmp_path):
    other = submission(99)[0]["applicant"]
    cases = {
        "chsi.report_expired": applicant(chsi_env, 1, report="OLD0000000000001", valid_until="2026-03-31",
                                         tmp=tmp_path),
        "chsi.report_other_person": applicant(chsi_env, 2, report="ELSE000000000002", report_of=other,
                                              tmp=tmp_path),
        "chsi.mismatch": applicant(chsi_env, 3, holds={**record_of(submission(3)[0]), "major": "土木工程"}),
    }
    clean_sub, clean_files = applicant(chsi_env, 4, report="GOOD000000000004", tmp=tmp_path)
    ids = {code: put(app, *case) for code, case in cases.items()}
    clean = put(app, clean_sub, clean_files)
    sync(app)
    for _ in range(2):
        validate_pending()
    got = returns(app)
    assert set(got) == {sub["submission_id"] for sub, _ in cases.values()}
    for code, (sub, _) in cases.items():
        (only,) = got[sub["submission_id"]]                    # once, after two runs
        assert [r["code"] for r in only["reasons"]] == [code]
        assert CHINESE.search(only["reasons"][0]["message"])   # the applicant reads Chinese
        assert only["idempotency_key"] == f"return:{sub['submission_id']}:r1:评审申报"
        assert status(app, ids[code]) == "returned"
    assert status(app, clean) in ("in_review", "validated")


def test_validation_and_chsi_errors_reach_the_applicant_in_one_return(app, chsi_env, validate_pending, tmp_path):
    sub, files = applicant(chsi_env, 5, report="OLD0000000000005", valid_until="2026-03-31", tmp=tmp_path)
    sub = replace_file(sub, files, "M03", h.text_pdf(1, blank_after=True))
    put(app, sub, files)
    validate_pending()                       # before 学信 answered: nothing is decided yet
    assert returns(app) == {}
    sync(app)
    validate_pending()
    validate_pending()
    (only,) = returns(app)[sub["submission_id"]]
    assert sorted(r["code"] for r in only["reasons"]) == ["chsi.report_expired", "material.blank_page"]
    assert all(CHINESE.search(r["message"]) for r in only["reasons"])


def test_a_chsi_outage_returns_nobody_and_the_verdict_waits(app, chsi_env, validate_pending, tmp_path):
    sub, files = applicant(chsi_env, 6, report="OLD0000000000006", valid_until="2026-03-31", tmp=tmp_path)
    clean_sub, clean_files = applicant(chsi_env, 7)
    bad, clean = put(app, sub, files), put(app, clean_sub, clean_files)
    chsi_env.faults.set("*", error_rate=1.0)
    assert sync(app)["outage"] is True
    got = validate_pending()
    assert (got["awaiting_chsi"], got["returned"], got["passed"]) == (2, 0, 0)
    assert returns(app) == {} and status(app, bad) == status(app, clean) == "received"
    chsi_env.faults.clear()
    sync(app)
    got = validate_pending()
    assert (got["returned"], got["passed"], got["awaiting_chsi"]) == (1, 1, 0)
    assert [r["code"] for r in returns(app)[sub["submission_id"]][0]["reasons"]] == ["chsi.report_expired"]


def test_no_education_and_no_report_needs_no_chsi(app, validate_pending):
    sub, files = submission(8)
    sub["education"] = []
    put(app, sub, files)
    got = validate_pending()
    assert got["awaiting_chsi"] == 0 and got["applications"] == 1
    assert got["findings"] == {"education.no_certificate_no": 1}
