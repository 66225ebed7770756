"""The verification and query service over real HTTP on both databases: the JSON API
and its guess limits, uploads, the hall's signed downloads, staff search with its
scope, audit and export, and the issued notification's addresses."""
from __future__ import annotations

import io
import logging
import re
from urllib.parse import quote

import pymupdf as fitz
import pytest
import requests
from pydantic import SecretStr
from sqlalchemy import select, text

from web_support import (HALL_APP_ID, HALL_SECRET, PASSWORD, hall_get, make_registry, serving,
                         submission_of)
from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import OutboxItem, StaffLookup
from zhicheng.demo.issuance_samples import add_approved
from zhicheng.issuance import service as issuance
from zhicheng.issuance.models import Certificate
from zhicheng.domain.privacy import mask_id_number, mask_name
from zhicheng.web.app import create_app


@pytest.fixture
def web(app):
    app.settings = app.settings.model_copy(update={"hall_app_id": HALL_APP_ID,
                                                   "hall_app_secret": SecretStr(HALL_SECRET)})
    registry = make_registry(app)
    with serving(create_app(app, session_secret="test-session-secret")) as base:
        yield app, registry, base


def api(base, no, code):
    return requests.get(f"{base}/api/v1/verifications", params={"certificate_no": no, "code": code}, timeout=30)


def test_the_api_answers_status_and_masks_the_holder(web, caplog):
    """Valid, revoked, replaced, a status added later (issue 22), and uploaded PDFs."""
    app, reg, base = web
    caplog.set_level(logging.INFO, logger="zhicheng.web")
    good = reg.nanjing[2]
    r = api(base, good.certificate_no, good.verification_code)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["valid"], body["status"], body["certificate_no"]) == (True, "valid", good.certificate_no)
    assert body["holder_name"] == mask_name(good.holder_name) != good.holder_name
    assert (body["qualification_name"], body["level"], body["issuer"]) == (good.qualification_name, good.level,
                                                                          good.issuer)
    assert good.holder_id_number not in r.text and mask_id_number(good.holder_id_number) not in r.text
    answer = api(base, reg.revoked.certificate_no, reg.revoked.verification_code)
    revoked = answer.json()
    assert (revoked["valid"], revoked["status"], revoked["status_label"]) == (False, "revoked", "已撤销")
    assert "弄虚作假" not in answer.text  # the officer's reason stays with staff
    replaced = api(base, reg.replaced.certificate_no, reg.replaced.verification_code).json()
    assert (replaced["valid"], replaced["replaced_by"]) == (False, reg.replacement.certificate_no)
    new = api(base, reg.replacement.certificate_no, reg.replacement.verification_code).json()
    assert new["valid"] is True
    # the referrer never carries the QR code's number and code to another site
    assert r.headers["Referrer-Policy"] == "no-referrer"
    logged = "\n".join(rec.getMessage() for rec in caplog.records)
    assert "/api/v1/verifications" in logged
    for secret in (good.certificate_no, good.verification_code, good.holder_name):
        assert secret not in logged
    # -- a status added later is never shown as valid
    cert = reg.taizhou[1]
    with app.engine.begin() as conn:  # as a later version would write it (the triggers allow only revocations)
        if app.engine.dialect.name == "sqlite":
            for trigger in ("certificates_fixed_columns", "certificates_one_amendment"):
                conn.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
        else:
            conn.execute(text("ALTER TABLE certificates DISABLE TRIGGER certificates_append_only"))
        conn.execute(text("UPDATE certificates SET status = 'frozen' WHERE id = :id"), {"id": cert.id})
    body = api(base, cert.certificate_no, cert.verification_code).json()
    assert (body["valid"], body["status"], body["status_label"]) == (False, "frozen", "frozen")
    # -- an uploaded pdf is checked like zhicheng verify
    cert = reg.nanjing[2]
    data = (app.settings.home / cert.document_path).read_bytes()
    ok = requests.post(f"{base}/api/v1/verifications", data=data,
                       headers={"Content-Type": "application/pdf"}, timeout=30).json()
    assert (ok["outcome"], ok["valid"], ok["certificate_no"]) == ("valid", True, cert.certificate_no)
    doc = fitz.open(stream=data, filetype="pdf")
    doc[0].insert_text((300, 500), "伪造", fontname="china-s")
    bad = requests.post(f"{base}/api/v1/verifications", data=doc.tobytes(), timeout=30).json()
    assert (bad["outcome"], bad["valid"]) == ("tampered", False)
    revoked = (app.settings.home / reg.revoked.document_path).read_bytes()
    assert requests.post(f"{base}/api/v1/verifications", data=revoked, timeout=30).json()["status"] == "revoked"


def test_unknown_numbers_and_wrong_codes_look_alike_and_guessing_is_limited(web):
    app, reg, base = web
    target = reg.taizhou[0]
    unknown = api(base, reg.nanjing[2].certificate_no[:-7] + "999998", "AAAA-BBBB-CCCC")
    wrong = api(base, target.certificate_no, "AAAA-BBBB-CCCC")
    if unknown.status_code == 400:  # the made-up number's check character: fix it and ask again
        from zhicheng.domain.certificate_numbers import mod11_2_check_char
        no = reg.nanjing[2].certificate_no[:-7] + "999998"
        no = no[:17] + mod11_2_check_char(no[:17])
        unknown = api(base, no, "AAAA-BBBB-CCCC")
    assert unknown.status_code == wrong.status_code == 404
    assert unknown.json() == wrong.json()
    for _ in range(3):  # five free wrong answers in all (two above)
        assert api(base, target.certificate_no, "AAAA-BBBB-CCCD").status_code == 404
    limited = api(base, target.certificate_no, "AAAA-BBBB-CCCE")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) == 30
    # while limited, even the right code is not checked
    assert api(base, target.certificate_no, target.verification_code).status_code == 429
    app.clock.advance(seconds=31)
    assert api(base, target.certificate_no, "AAAA-BBBB-CCCF").status_code == 404  # one more try...
    again = api(base, target.certificate_no, target.verification_code)
    assert again.status_code == 429 and int(again.headers["Retry-After"]) == 60  # ...and the wait doubles
    app.clock.advance(seconds=61)
    assert api(base, target.certificate_no, target.verification_code).status_code == 200




def test_a_revocation_and_a_replacement_show_on_the_next_request(web):
    """Nothing is kept between requests: what the registry says now is the answer."""
    app, reg, base = web
    revoked, replaced = reg.taizhou
    for cert in (revoked, replaced):
        assert api(base, cert.certificate_no, cert.verification_code).json()["valid"] is True
    with unit_of_work(app.sessions) as s:
        issuance.revoke(session=s, certificate=s.get(Certificate, revoked.id), reason="撤销", now=app.clock.now())
        again = add_approved(session=s, config=app.config, count=1, start=70, committee_id="TZ-GC-ZJ",
                             region_code="321202", track="换发", prior_certificate_no=replaced.certificate_no)
    body = api(base, revoked.certificate_no, revoked.verification_code).json()
    assert (body["valid"], body["status"], body["revoked_on"]) == (False, "revoked", "2026-06-01")
    with unit_of_work(app.sessions) as s:
        issuance.issue_chunk(session=s, ctx=issuance.IssueContext.for_app(app), application_ids=again,
                             now=app.clock.now())
        successor = s.scalar(select(Certificate.certificate_no).where(Certificate.application_id == again[0]))
    body = api(base, replaced.certificate_no, replaced.verification_code).json()
    assert (body["valid"], body["replaced_by"]) == (False, successor)


def test_the_halls_downloads_need_the_contracts_signature(web):
    app, reg, base = web
    now = app.clock.now().timestamp()
    cert = reg.nanjing[2]
    path = f"/hall/api/v1/certificates/{cert.certificate_no}/document"
    r = hall_get(base, path, now=now)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content == (app.settings.home / cert.document_path).read_bytes()
    png = hall_get(base, f"/hall/api/v1/certificates/{cert.certificate_no}/preview", now=now)
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    sid = submission_of(app, cert)
    form = hall_get(base, f"/hall/api/v1/applications/{quote(sid, safe='')}/form", now=now)
    assert form.status_code == 200
    text_of_form = fitz.open(stream=form.content, filetype="pdf")[0].get_text()
    assert "专业技术资格评审申报表" in text_of_form and sid in text_of_form
    # refusals, as external-systems.md says
    bad = hall_get(base, path, now=now, secret="not-the-secret")
    assert (bad.status_code, bad.json()["error"]) == (401, "bad_signature")
    stale = hall_get(base, path, now=now - 301)
    assert (stale.status_code, stale.json()["error"]) == (401, "stale_timestamp")
    nonce = "N" * 20
    assert hall_get(base, path, now=now, nonce=nonce).status_code == 200
    reused = hall_get(base, path, now=now, nonce=nonce)
    assert (reused.status_code, reused.json()["error"]) == (409, "nonce_reused")
    unsigned = requests.get(base + path, timeout=30)
    assert unsigned.status_code == 401
    missing = hall_get(base, "/hall/api/v1/certificates/320100202630099999/document", now=now)
    assert missing.status_code == 404
    # -- the issued notification carries the download addresses
    with app.sessions() as s:
        items = s.scalars(select(OutboxItem).where(OutboxItem.target == "hall_notification")).all()
        params = {i.payload["params"]["certificate_no"]: i.payload["params"] for i in items}
    p = params[reg.nanjing[2].certificate_no]
    sid = submission_of(app, reg.nanjing[2])
    root = app.config.web.downloads_url
    assert p["certificate_url"] == f"{root}/certificates/{reg.nanjing[2].certificate_no}/document"
    assert p["preview_url"].endswith("/preview")
    assert p["application_form_url"] == f"{root}/applications/{quote(sid, safe='')}/form"


def _signed_in(base, username):
    s = requests.Session()
    page = s.get(f"{base}/staff/login", timeout=30).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)[1]
    r = s.post(f"{base}/staff/login", data={"username": username, "password": PASSWORD, "csrf": csrf},
               timeout=30, allow_redirects=False)
    assert r.status_code == 303, r.text
    page = s.get(f"{base}/staff/search", timeout=30).text
    return s, re.search(r'name="csrf" value="([^"]+)"', page)[1]


def test_staff_search_is_scoped_recorded_and_exported(web):
    app, reg, base = web
    s, csrf = _signed_in(base, "taizhou01")
    r = s.post(f"{base}/staff/search", data={"csrf": csrf, "year": "2026"}, timeout=30)
    assert r.status_code == 200
    for cert in reg.taizhou:
        assert cert.certificate_no in r.text and mask_id_number(cert.holder_id_number) in r.text
        assert cert.holder_id_number not in r.text
    for cert in reg.nanjing:
        assert cert.certificate_no not in r.text  # another city's
    by_number = s.post(f"{base}/staff/search", data={"csrf": csrf, "certificate_no": reg.nanjing[2].certificate_no},
                       timeout=30)
    assert "共 0 条" in by_number.text
    by_id = s.post(f"{base}/staff/search", data={"csrf": csrf, "id_number": reg.taizhou[0].holder_id_number},
                   timeout=30)
    assert "共 1 条" in by_id.text and reg.taizhou[0].certificate_no in by_id.text
    xlsx = s.post(f"{base}/staff/search", data={"csrf": csrf, "year": "2026", "export": "xlsx"}, timeout=30)
    import openpyxl
    ws = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    numbers = {row[0] for row in ws.iter_rows(min_row=3, values_only=True)}
    assert numbers == {c.certificate_no for c in reg.taizhou}
    assert s.post(f"{base}/staff/search", data={"year": "2026"}, timeout=30).status_code == 403  # no CSRF token
    sid = submission_of(app, reg.taizhou[0])
    progress = s.get(f"{base}/staff/applications/{sid}", timeout=30)
    assert progress.status_code == 200 and "审核进度" in progress.text
    other = s.get(f"{base}/staff/applications/{submission_of(app, reg.nanjing[2])}", timeout=30)
    assert other.status_code == 404
    with app.sessions() as db:
        lookups = db.scalars(select(StaffLookup).order_by(StaffLookup.id)).all()
    assert [(x.username, x.action) for x in lookups] == [("taizhou01", a) for a in
                                                         ("search", "search", "search", "export", "application",
                                                          "application")]
    assert lookups[2].criteria == {"id_number": reg.taizhou[0].holder_id_number}
    assert lookups[0].results == 2 and lookups[-1].results == 0
    # -- sign in refuses wrong passwords and forged forms
    s = requests.Session()
    page = s.get(f"{base}/staff/login", timeout=30).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)[1]
    wrong = s.post(f"{base}/staff/login", data={"username": "taizhou01", "password": "x" * 12, "csrf": csrf},
                   timeout=30, allow_redirects=False)
    nobody = s.post(f"{base}/staff/login", data={"username": "nobody", "password": "x" * 12, "csrf": csrf},
                    timeout=30, allow_redirects=False)
    assert wrong.status_code == nobody.status_code == 401
    forged = requests.post(f"{base}/staff/login", data={"username": "taizhou01", "password": PASSWORD,
                                                        "csrf": csrf}, timeout=30, allow_redirects=False)
    assert forged.status_code == 403  # the token without its cookie: another site's form
    for method, path in (("GET", "/staff/search"), ("POST", "/staff/search"), ("GET", "/staff/applications/S-1")):
        unsigned = requests.request(method, f"{base}{path}", timeout=30, allow_redirects=False)
        assert (unsigned.status_code, unsigned.headers.get("location")) == (303, "/staff/login"), (method, path)
