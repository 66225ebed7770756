"""Validation service on both engines: findings stored, errors returned to the hall once,
clean applications passed on, other applicants' applications and files taken into account."""
from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

import hostile_pdfs as h
from misbehaving_worker import inspector as misbehaving
from validation_data import add_revision, replace_file, store, submission
from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import Application, Finding, OutboxItem
from zhicheng.validation import service as validation




def put(app, sub, files, **kw) -> int:
    with unit_of_work(app.sessions) as s:
        return store(s, sub, files, files_root=app.settings.home, committees=app.config.committees, **kw).id


def state(app, app_id: int) -> tuple[str, list[tuple[str, str]]]:
    with app.sessions() as s:
        a = s.get(Application, app_id)
        found = s.execute(select(Finding.code, Finding.source).where(Finding.application_id == app_id)
                          .order_by(Finding.code)).all()
        return a.status, [tuple(f) for f in found]


def returns(app) -> list[dict]:
    with app.sessions() as s:
        return [(o.dedupe_key, o.payload)
                for o in s.scalars(select(OutboxItem).where(OutboxItem.target == "hall_return"))]


def test_a_clean_application_goes_on_to_review(app, validate_pending):
    clean = put(app, *submission(1))
    got = validate_pending()
    assert (got["applications"], got["passed"], got["returned"]) == (1, 1, 0)
    status, findings = state(app, clean)
    assert status in ("in_review", "validated") and findings == []
    with app.sessions() as s:
        assert s.get(Application, clean).holds_year_slot is True
    assert returns(app) == [] and validate_pending()["applications"] == 0


def test_errors_return_the_application_once_with_every_reason(app, validate_pending):
    sub, files = submission(2)
    sub = replace_file(sub, files, "M03", h.with_javascript())
    sub["applicant"]["gender"] = "女"
    bad = put(app, sub, files)
    assert validate_pending()["returned"] == 1
    status, findings = state(app, bad)
    assert status == "returned"
    assert findings == [("applicant.gender_mismatch", "validation"), ("material.active_content", "validation")]
    ((key, payload),) = returns(app)
    assert key == f"return:{sub['submission_id']}:r1:评审申报" == payload["idempotency_key"]
    assert payload["stage"] == "评审申报" and payload["revision"] == 1
    assert [r["code"] for r in payload["reasons"]] == ["applicant.gender_mismatch", "material.active_content"]
    assert all(r["message"] for r in payload["reasons"])
    # validated again (as if the chunk were redone): findings replaced, still one return
    with unit_of_work(app.sessions) as s:
        s.get(Application, bad).status = "received"
    validate_pending()
    assert state(app, bad) == (status, findings) and len(returns(app)) == 1


def test_a_resubmission_is_validated_on_its_own_revision(app, validate_pending):
    sub, files = submission(3)
    bad = put(app, replace_file(sub, files, "M01", h.scan_pdf(96)), files)
    validate_pending()
    fixed, files2 = submission(3)
    fixed["revision"] = 2
    with unit_of_work(app.sessions) as s:
        a = s.get(Application, bad)
        add_revision(s, a, fixed, files2, files_root=app.settings.home)
        a.current_revision, a.status = 2, "received"
    assert validate_pending()["passed"] == 1
    with app.sessions() as s:
        by_rev = s.execute(select(Finding.revision, Finding.code).where(Finding.application_id == bad)).all()
    assert [tuple(r) for r in by_rev] == [(1, "material.low_resolution")]
    assert [k for k, _ in returns(app)] == [f"return:{sub['submission_id']}:r1:评审申报"]


def test_intake_errors_return_the_application_too(app, validate_pending):
    sub, files = submission(4)
    del files["M05"]                                     # intake could not fetch it
    app_id = put(app, sub, files)
    f = app.config.findings.make("submission.outside_period", batch_year=2026, opens="x", closes="y")
    with unit_of_work(app.sessions) as s:
        s.add(Finding(application_id=app_id, revision=1, source="intake", code=f.code, severity=f.severity,
                      message=f.message, params={}, fingerprint=f.fingerprint, created_at=app.clock.now()))
    validate_pending()
    assert state(app, app_id) == ("returned", [("submission.outside_period", "intake")])
    ((_, payload),) = returns(app)
    assert [r["code"] for r in payload["reasons"]] == ["submission.outside_period"]


def test_the_same_file_from_two_applicants_goes_to_a_human(app, validate_pending):
    shared = h.text_pdf(3) + b"\n%shared\n"
    ids = []
    for n in (5, 6):
        sub, files = submission(n)
        sub["materials"].append({"material_id": "M06", "type": "achievement", "file_name": "业绩.pdf",
                                 "size": len(shared), "sha256": hashlib.sha256(shared).hexdigest()})
        files["M06"] = shared
        ids.append(put(app, sub, files))
    assert validate_pending()["passed"] == 2
    for app_id in ids:
        status, findings = state(app, app_id)
        assert status != "returned" and findings == [("material.duplicate_across_applicants", "validation")]


def test_a_second_active_application_in_the_year_is_returned(app, validate_pending):
    first, files1 = submission(7)
    second, files2 = submission(8, id_number=first["applicant"]["id_number"])
    second["submitted_at"] = "2026-07-20T10:00:00+08:00"
    later, earlier = put(app, second, files2), put(app, first, files1)
    validate_pending()
    assert state(app, earlier)[1] == []
    assert state(app, later) == ("returned", [("application.duplicate_active", "validation")])


def test_only_received_applications_are_looked_at(app, validate_pending):
    sub, files = submission(9)
    put(app, replace_file(sub, files, "M03", h.encrypted_pdf()), files, status="invalid")
    assert validate_pending()["applications"] == 0 and returns(app) == []


def test_a_chunk_that_dies_commits_nothing_and_the_rerun_redoes_only_it(app, inspector, monkeypatch):
    ids = []
    for n in (10, 11, 12, 13):
        sub, files = submission(n)
        if n in (11, 12):
            sub = replace_file(sub, files, "M03", h.text_pdf(1, blank_after=True))
        ids.append(put(app, sub, files))
    real = validation.pass_on

    def dies_on_the_last(session, *, apps, **kw):
        if ids[3] in {a.id for a in apps}:
            raise RuntimeError("killed mid-chunk")
        return real(session=session, apps=apps, **kw)

    monkeypatch.setattr(validation, "pass_on", dies_on_the_last)

    def chunk(part):
        return validation.validate_chunk(sessions=app.sessions, application_ids=part, config=app.config,
                                         now=app.clock.now(), files_root=app.settings.home, inspector=inspector)

    assert chunk(ids[:2])["returned"] == 1
    with pytest.raises(RuntimeError):
        chunk(ids[2:])                      # its return for ids[2] was enqueued, then the chunk died
    with app.sessions() as s:
        assert validation.pending(session=s) == ids[2:]
    assert len(returns(app)) == 1           # nothing of the dead chunk was committed
    monkeypatch.setattr(validation, "pass_on", real)
    with app.sessions() as s:
        again = chunk(validation.pending(session=s))
    assert (again["applications"], again["returned"], again["passed"]) == (2, 1, 1)
    assert sorted(k for k, _ in returns(app)) == ["return:JS2026000011:r1:评审申报", "return:JS2026000012:r1:评审申报"]


def test_a_file_the_inspector_cannot_answer_for_is_unsafe_and_the_chunk_goes_on(app):
    """The inspector's worker breaks the protocol on one applicant's file (every time):
    that file is material.unsafe (unreadable), its application is returned, and the
    other application of the chunk is judged on its own files."""
    sub, files = submission(41)
    hit = put(app, replace_file(sub, files, "M03", h.text_pdf(1) + b"\n%misbehave:garbage\n"), files)
    clean = put(app, *submission(42))
    with app.sessions() as s:
        ids = validation.pending(session=s)
    with misbehaving("faulty") as inspector:
        got = validation.validate_chunk(sessions=app.sessions, application_ids=ids, config=app.config,
                                        now=app.clock.now(), files_root=app.settings.home, inspector=inspector)
    assert (got["applications"], got["returned"], got["passed"]) == (2, 1, 1)
    assert state(app, hit) == ("returned", [("material.unsafe", "validation")])
    with app.sessions() as s:
        (message,) = s.scalars(select(Finding.message).where(Finding.application_id == hit))
    assert "检查程序的结果无法读取" in message
    assert state(app, clean)[1] == []
