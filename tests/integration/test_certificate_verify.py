"""Verifying certificates: valid, tampered, unknown, revoked, superseded; rotated keys;
a key that is not the issuer's; the published key set and the OpenSSL procedure."""
from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
from pathlib import Path

import pymupdf as fitz
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from zhicheng.cli.main import app as cli
from zhicheng.db.engine import unit_of_work
from zhicheng.demo.issuance_samples import add_approved
from zhicheng.issuance import service as issuance
from zhicheng.issuance.keys import KeySetRefused, KeyStore, PublishedKeys
from zhicheng.issuance.models import Certificate
from zhicheng.issuance.pdf import seal
from zhicheng.issuance.verify import verify_document, verify_number


@pytest.fixture
def issued(app):
    """Three certificates of one chunk: (app, ctx, [Certificate])."""
    ctx = issuance.IssueContext.for_app(app)
    with unit_of_work(app.sessions) as s:
        ids = add_approved(session=s, config=app.config, count=3)
    with unit_of_work(app.sessions) as s:
        issuance.issue_chunk(session=s, ctx=ctx, application_ids=ids, now=app.clock.now())
    with app.sessions() as s:
        certs = list(s.scalars(select(Certificate).order_by(Certificate.id)))
    return app, ctx, certs


def check_file(app, ctx, cert, data=None):
    data = data if data is not None else (app.settings.home / cert.document_path).read_bytes()
    with app.sessions() as s:
        return verify_document(session=s, data=data, keys=ctx.keystore)


def test_an_issued_certificate_is_valid_by_file_and_by_code(issued):
    app, ctx, certs = issued
    v = check_file(app, ctx, certs[0])
    assert v.outcome == "valid" and v.details["merkle"] == "ok"
    with app.sessions() as s:
        assert verify_number(session=s, number=certs[0].certificate_no,
                             code=certs[0].verification_code.lower().replace("-", "")).ok
        wrong = verify_number(session=s, number=certs[0].certificate_no, code="AAAA-AAAA-AAAA")
        assert wrong.outcome == "unknown" and "不匹配" in wrong.reason
        assert verify_number(session=s, number="320100202630099999", code="x").outcome == "unknown"


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
        issuance.revoke(session=s, certificate=s.get(Certificate, certs[0].id), reason="弄虚作假，撤销资格",
                        now=app.clock.now())
    v = check_file(app, ctx, certs[0])
    assert v.outcome == "revoked" and "弄虚作假" in v.reason
    with unit_of_work(app.sessions) as s:
        ids = add_approved(session=s, config=app.config, count=1, start=50, committee_id=None,
                           track="换发", prior_certificate_no=certs[1].certificate_no)
    with unit_of_work(app.sessions) as s:
        new_no = issuance.issue_chunk(session=s, ctx=ctx, application_ids=ids, now=app.clock.now()).issued[0]
    v = check_file(app, ctx, certs[1])
    assert v.outcome == "superseded" and new_no in v.reason
    with app.sessions() as s:
        new = s.scalar(select(Certificate).where(Certificate.certificate_no == new_no))
        assert verify_number(session=s, number=new_no, code=new.verification_code).ok
        assert verify_number(session=s, number=certs[1].certificate_no,
                             code=certs[1].verification_code).outcome == "superseded"


def test_rotated_key_old_certificates_still_verify(issued, tmp_path):
    app, ctx, certs = issued
    old_key = certs[0].key_id
    new_key = ctx.keystore.generate("320100", now=app.clock.now())
    assert new_key != old_key
    with unit_of_work(app.sessions) as s:
        ids = add_approved(session=s, config=app.config, count=1, start=60)
    with unit_of_work(app.sessions) as s:
        no = issuance.issue_chunk(session=s, ctx=ctx, application_ids=ids, now=app.clock.now()).issued[0]
    with app.sessions() as s:
        new = s.scalar(select(Certificate).where(Certificate.certificate_no == no))
    assert new.key_id == new_key
    fresh = KeyStore.for_home(app.settings.home)  # another process: keys from disk only
    for cert in (certs[0], new):
        data = (app.settings.home / cert.document_path).read_bytes()
        with app.sessions() as s:
            assert verify_document(session=s, data=data, keys=fresh).ok
    # a third party with only the published keys checks the signature offline
    published = tmp_path / "keys.json"
    published.write_text(json.dumps(fresh.publication()))
    offline = verify_document(session=None, data=(app.settings.home / certs[0].document_path).read_bytes(),
                              keys=PublishedKeys.from_file(published))
    assert offline.ok and {k["key_id"] for k in fresh.published()} == {old_key, new_key}
    # a key nobody published: unknown
    empty = verify_document(session=None, data=(app.settings.home / new.document_path).read_bytes(),
                            keys=PublishedKeys({**fresh.publication(), "keys": []}))
    assert empty.outcome == "unknown"


# -- the key must be the issuer's (issue 19, item 9) ----------------------------------

@pytest.fixture
def suzhou(app):
    """A certificate issued by 320500 (苏州), and a key of another issuer, 320106."""
    ctx = issuance.IssueContext.for_app(app)
    with unit_of_work(app.sessions) as s:
        ids = add_approved(session=s, config=app.config, count=1, committee_id="SZ-JJ-ZJ")
    with unit_of_work(app.sessions) as s:
        no = issuance.issue_chunk(session=s, ctx=ctx, application_ids=ids, now=app.clock.now()).issued[0]
    with app.sessions() as s:
        cert = s.scalar(select(Certificate).where(Certificate.certificate_no == no))
    assert no.startswith("320500")
    ctx.keystore.generate("320106", now=app.clock.now())
    return app, ctx, (app.settings.home / cert.document_path).read_bytes()


def reseal(data: bytes, key) -> bytes:
    """What the holder of another issuer's key can do: name that key and sign the file again
    (both key ids are 23 characters, so nothing else in the file moves)."""
    data = re.sub(rb"(/ZhichengKeyId\s*\()[0-9A-Za-z\-]+\)", lambda m: m[1] + key.key_id.encode() + b")", data)
    data = re.sub(rb"(/ZhichengSignature\s*\()[0-9a-f]{128}\)", lambda m: m[1] + b"0" * 128 + b")", data)
    return seal(data, key.sign)


def test_a_certificate_resealed_with_another_issuers_key_is_not_valid(suzhou, tmp_path):
    app, ctx, genuine = suzhou
    forged = reseal(genuine, ctx.keystore.signing_key("320106"))
    publication = tmp_path / "keys.json"
    publication.write_text(json.dumps(ctx.keystore.publication()))
    published = PublishedKeys.from_file(publication)
    offline = verify_document(session=None, data=forged, keys=published)   # the published keys alone
    assert offline.outcome == "tampered", offline
    assert "属于发证机关 320106" in offline.reason and "发证机关是 320500" in offline.reason
    assert offline.details["key_issuer"] == "320106"
    assert verify_document(session=None, data=genuine, keys=published).ok
    (tmp_path / "forged.pdf").write_bytes(forged)
    (tmp_path / "genuine.pdf").write_bytes(genuine)
    for keys in ([], ["--keys", str(publication)]):
        said = CliRunner().invoke(cli, ["verify", str(tmp_path / "forged.pdf"), *keys])
        assert said.exit_code == 1 and said.stdout.startswith("tampered"), said.output
        assert "签名密钥 320106-" in said.stdout and "发证机关是 320500" in said.stdout
        said = CliRunner().invoke(cli, ["verify", str(tmp_path / "genuine.pdf"), *keys])
        assert said.exit_code == 0 and said.stdout.startswith("valid"), said.output


def _relabelled(doc):
    doc["keys"][0]["issuer"] = "320500" if doc["keys"][0]["issuer"] != "320500" else "320106"


def _foreign_root(doc):
    other = KeyStore(Path(doc["_tmp"]) / "other")
    other.generate(doc["keys"][0]["issuer"], now=dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc))
    doc["keys"][0]["certificate_pem"] = other.published()[0]["certificate_pem"]


def _swapped(doc):
    doc["keys"][0]["certificate_pem"], doc["keys"][1]["certificate_pem"] = \
        doc["keys"][1]["certificate_pem"], doc["keys"][0]["certificate_pem"]


@pytest.mark.parametrize("forge,refusal", [
    (_relabelled, "but its certificate names issuer"),
    (_foreign_root, "not signed by the key set's root"),
    (_swapped, "its certificate is for another key"),
    (lambda doc: doc.update(format="zhicheng-published-keys/1"), "export it again"),
])
def test_a_key_set_that_does_not_bind_its_keys_is_refused_naming_the_key(suzhou, tmp_path, forge, refusal):
    app, ctx, genuine = suzhou
    doc = ctx.keystore.publication()
    doc["_tmp"] = str(tmp_path)
    forge(doc)
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(KeySetRefused, match=refusal):
        PublishedKeys.from_file(path)
    (tmp_path / "genuine.pdf").write_bytes(genuine)
    said = CliRunner().invoke(cli, ["verify", str(tmp_path / "genuine.pdf"), "--keys", str(path)])
    assert said.exit_code == 2 and refusal in " ".join(said.output.split()), said.output


def _documented_openssl_check() -> str:
    """The shell script of docs/certificates.md ("Check with standard tools only")."""
    doc = (Path(__file__).parents[2] / "docs" / "certificates.md").read_text(encoding="utf-8")
    block = re.search(r"Check with standard tools only.*?```sh\n(.*?)```", doc, re.S)
    assert block, "docs/certificates.md lost its OpenSSL recipe"
    return block.group(1)


@pytest.mark.skipif(not all(shutil.which(t) for t in ("openssl", "jq", "xxd", "perl")),
                    reason="OpenSSL 3, jq, xxd and perl are needed")
def test_a_third_party_checks_issuer_and_seal_with_openssl_as_documented(suzhou, tmp_path):
    """Run the documented script (grep, jq, xxd, perl, openssl) as a third party would."""
    app, ctx, genuine = suzhou
    publication = ctx.keystore.publication()
    (tmp_path / "keys.json").write_text(json.dumps(publication))
    script = re.sub(r"root_sha256='.*?'", f"root_sha256='{publication['root_sha256']}'",
                    _documented_openssl_check())

    def openssl_says(pdf: bytes) -> subprocess.CompletedProcess:
        (tmp_path / "cert.pdf").write_bytes(pdf)
        return subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True)
    good = openssl_says(genuine)
    assert good.returncode == 0 and "Signature Verified Successfully" in good.stdout, good
    changed = bytearray(genuine)
    changed[len(changed) // 3] ^= 0x01
    bad = openssl_says(bytes(changed))
    assert bad.returncode != 0 and "Verified Successfully" not in bad.stdout
    forged = openssl_says(reseal(genuine, ctx.keystore.signing_key("320106")))
    assert forged.returncode != 0 and "Verified Successfully" not in forged.stdout
    assert "is not a key of issuer 320500" in forged.stdout, forged
    other_root = re.sub(r"root_sha256='.*?'", "root_sha256='00:11'", _documented_openssl_check())
    (tmp_path / "cert.pdf").write_bytes(genuine)
    pinned = subprocess.run(["bash", "-c", other_root], cwd=tmp_path, capture_output=True, text=True)
    assert pinned.returncode != 0 and "its root is not the published one" in pinned.stdout
