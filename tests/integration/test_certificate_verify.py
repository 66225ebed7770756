"""Verifying certificates: valid, tampered, unknown, revoked, superseded; rotated keys."""
from __future__ import annotations

import json

import pymupdf as fitz
import pytest
from sqlalchemy import select

from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import Certificate
from zhicheng.services import issuance
from zhicheng.services.certificate_keys import KeyStore, PublishedKeys
from zhicheng.services.certificate_verify import verify_document, verify_number
from zhicheng.services.issuance_samples import add_approved


@pytest.fixture
def issued(app):
    """Three certificates of one chunk: (app, ctx, [Certificate])."""
    ctx = issuance.IssueContext.for_app(app)
    with unit_of_work(app.sessions) as s:
        ids = add_approved(s, config=app.config, count=3)
    with unit_of_work(app.sessions) as s:
        issuance.issue_chunk(s, ctx=ctx, application_ids=ids, now=app.clock.now())
    with app.sessions() as s:
        certs = list(s.scalars(select(Certificate).order_by(Certificate.id)))
    return app, ctx, certs


def check_file(app, ctx, cert, data=None):
    data = data if data is not None else (app.settings.home / cert.document_path).read_bytes()
    with app.sessions() as s:
        return verify_document(s, data=data, keys=ctx.keystore)


def test_an_issued_certificate_is_valid_by_file_and_by_code(issued):
    app, ctx, certs = issued
    v = check_file(app, ctx, certs[0])
    assert v.outcome == "valid" and v.details["merkle"] == "ok"
    with app.sessions() as s:
        assert verify_number(s, number=certs[0].certificate_no,
                             code=certs[0].verification_code.lower().replace("-", "")).ok
        wrong = verify_number(s, number=certs[0].certificate_no, code="AAAA-AAAA-AAAA")
        assert wrong.outcome == "unknown" and "不匹配" in wrong.reason
        assert verify_number(s, number="320100202630099999", code="x").outcome == "unknown"


@pytest.mark.parametrize("where", [0.1, 0.5, 0.9, -1])
def test_one_changed_byte_is_tampered(issued, where):
    app, ctx, certs = issued
    data = bytearray((app.settings.home / certs[1].document_path).read_bytes())
    i = int(len(data) * where) if where >= 0 else len(data) - 3
    data[i] ^= 0x01
    v = check_file(app, ctx, certs[1], bytes(data))
    assert v.outcome in ("tampered", "unknown") and not v.ok
    if where in (0.1, 0.9):
        assert v.outcome == "tampered"


def test_an_edited_and_resaved_pdf_is_tampered(issued):
    app, ctx, certs = issued
    doc = fitz.open(app.settings.home / certs[0].document_path)
    doc[0].insert_text((300, 500), "伪造", fontname="china-s")
    v = check_file(app, ctx, certs[0], doc.tobytes())
    assert v.outcome == "tampered", v


def test_appended_update_is_tampered(issued):
    app, ctx, certs = issued
    data = (app.settings.home / certs[0].document_path).read_bytes()
    assert check_file(app, ctx, certs[0], data + b"\n% appended\n").outcome == "tampered"


def test_a_foreign_pdf_is_unknown(issued):
    app, ctx, certs = issued
    doc = fitz.open()
    doc.new_page()
    assert check_file(app, ctx, certs[0], doc.tobytes()).outcome == "unknown"


def test_revoked_and_superseded(issued):
    app, ctx, certs = issued
    with unit_of_work(app.sessions) as s:
        issuance.revoke(s, certificate=s.get(Certificate, certs[0].id), reason="弄虚作假，撤销资格",
                        now=app.clock.now())
    v = check_file(app, ctx, certs[0])
    assert v.outcome == "revoked" and "弄虚作假" in v.reason
    with unit_of_work(app.sessions) as s:
        ids = add_approved(s, config=app.config, count=1, start=50, committee_id=None,
                           track="换发", prior_certificate_no=certs[1].certificate_no)
    with unit_of_work(app.sessions) as s:
        new_no = issuance.issue_chunk(s, ctx=ctx, application_ids=ids, now=app.clock.now()).issued[0]
    v = check_file(app, ctx, certs[1])
    assert v.outcome == "superseded" and new_no in v.reason
    with app.sessions() as s:
        new = s.scalar(select(Certificate).where(Certificate.certificate_no == new_no))
        assert verify_number(s, number=new_no, code=new.verification_code).ok
        assert verify_number(s, number=certs[1].certificate_no,
                             code=certs[1].verification_code).outcome == "superseded"


def test_rotated_key_old_certificates_still_verify(issued, tmp_path):
    app, ctx, certs = issued
    old_key = certs[0].key_id
    new_key = ctx.keystore.generate("320100", now=app.clock.now())
    assert new_key != old_key
    with unit_of_work(app.sessions) as s:
        ids = add_approved(s, config=app.config, count=1, start=60)
    with unit_of_work(app.sessions) as s:
        no = issuance.issue_chunk(s, ctx=ctx, application_ids=ids, now=app.clock.now()).issued[0]
    with app.sessions() as s:
        new = s.scalar(select(Certificate).where(Certificate.certificate_no == no))
    assert new.key_id == new_key
    fresh = KeyStore.for_home(app.settings.home)  # another process: keys from disk only
    for cert in (certs[0], new):
        data = (app.settings.home / cert.document_path).read_bytes()
        with app.sessions() as s:
            assert verify_document(s, data=data, keys=fresh).ok
    # a third party with only the published keys checks the signature offline
    published = tmp_path / "keys.json"
    published.write_text(json.dumps({"keys": fresh.published()}))
    offline = verify_document(None, data=(app.settings.home / certs[0].document_path).read_bytes(),
                              keys=PublishedKeys.from_file(published))
    assert offline.ok and {k["key_id"] for k in fresh.published()} == {old_key, new_key}
    # a key nobody published: unknown
    empty = verify_document(None, data=(app.settings.home / new.document_path).read_bytes(),
                            keys=PublishedKeys([]))
    assert empty.outcome == "unknown"
