"""The certificate PDF: fields present, font embedded and subset, small, deterministic."""
from __future__ import annotations

import datetime as dt
import io

import pymupdf as fitz
import pytest
from PIL import Image

from zhicheng.config import get_config
from zhicheng.issuance.keys import KeyStore, verify_signature
from zhicheng.issuance.pdf import CertificateContent, Renderer, read_seal

TARGET = 60 * 1024


@pytest.fixture(scope="module")
def renderer():
    return Renderer(get_config().certificates)


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    return KeyStore(tmp_path_factory.mktemp("keys")).signing_key("320000", auto_generate=True)


def content(photo=None, **kw):
    base = dict(certificate_no="32000020264000007X", version=1, holder_name="欧阳晓燕",
                holder_gender="女", holder_id_number="320102198001010008",
                qualification_name="高级工程师", series="工程", specialty="电力系统及其自动化",
                level="副高级", obtained_by="评审",
                committee_name="江苏省工程系列电气工程专业高级职称评审委员会",
                approved_on=dt.date(2026, 12, 10), issued_on=dt.date(2026, 12, 28),
                issuer="江苏省人力资源和社会保障厅", verification_code="K7QM-2D9X-HC4T", photo=photo)
    base.update(kw)
    return CertificateContent(**base)


def photo_jpeg() -> bytes:
    img = Image.new("RGB", (330, 480), (90, 130, 200))
    for x in range(0, 330, 10):
        img.paste((200, 60, 60), (x, 0, x + 5, 480))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


def test_fields_fonts_and_size_without_photo(renderer, key):
    data = renderer.render(content(), key_id=key.key_id, sign=key.sign)
    assert len(data) < TARGET, len(data)
    doc = fitz.open(stream=data)
    text = doc[0].get_text()
    for expected in ("专业技术资格证书", "电子职称证书", "欧阳晓燕", "320102198001010008",
                     "高级工程师", "电力系统及其自动化", "副高级", "评审", "2026年12月10日",
                     "江苏省人力资源和社会保障厅", "32000020264000007X", "K7QM-2D9X-HC4T",
                     "江苏省工程系列电气工程专业高级职称评审委员会"):
        assert expected in text, expected
    fonts = doc.get_page_fonts(0)
    assert fonts and all("+" in f[3] for f in fonts)  # subset fonts carry a XXXXXX+ tag
    for f in fonts:
        assert doc.extract_font(f[0])[3], "font program embedded"


def test_size_with_photo_counts_only_our_bytes(renderer, key):
    photo = photo_jpeg()
    data = renderer.render(content(photo=photo), key_id=key.key_id, sign=key.sign)
    assert len(data) - len(photo) < TARGET
    doc = fitz.open(stream=data)
    assert len(doc[0].get_images()) == 1


def test_same_certificate_same_bytes_and_a_valid_seal(renderer, key):
    a = renderer.render(content(), key_id=key.key_id, sign=key.sign)
    b = renderer.render(content(), key_id=key.key_id, sign=key.sign)
    assert a == b
    seal = read_seal(a)
    assert (seal.certificate_no, seal.version, seal.key_id) == ("32000020264000007X", 1, key.key_id)
    assert verify_signature(key.private.public_key(), seal.signature, seal.message)


def test_qr_code_points_to_the_verification_url(renderer, key):
    data = renderer.render(content(), key_id=key.key_id, sign=key.sign)
    pix = fitz.open(stream=data)[0].get_pixmap(dpi=100)
    # dark modules are drawn: the QR area is not blank
    cfg = renderer.lay.qr
    clip = fitz.Rect(cfg.x, cfg.y, cfg.x + cfg.size, cfg.y + cfg.size)
    sub = fitz.open(stream=data)[0].get_pixmap(dpi=100, clip=clip)
    dark = sum(1 for i in range(0, len(sub.samples), sub.n) if sub.samples[i] < 128)
    assert 0.3 < dark / (sub.width * sub.height) < 0.7 and pix.width > 0
    assert renderer.verification_url(content()).endswith("?no=32000020264000007X&code=K7QM-2D9X-HC4T")


def test_the_document_information_names_the_certificate_and_its_seal(renderer, key):
    """What readers and `read_seal` find in /Info (written in one object since issue 25)."""
    data = renderer.render(content(issuer="南京市人力资源和社会保障局（补）"), key_id=key.key_id, sign=key.sign)
    doc = fitz.open(stream=data)
    assert {k: v for k, v in doc.metadata.items() if k not in ("format", "trapped", "encryption")} == {
        "title": "专业技术资格证书 32000020264000007X", "author": "南京市人力资源和社会保障局（补）",
        "subject": "电子职称证书", "keywords": "32000020264000007X", "creator": "zhicheng", "producer": "zhicheng",
        "creationDate": "D:20261228000000+08'00'", "modDate": "D:20261228000000+08'00'"}
    info = int(doc.xref_get_key(-1, "Info")[1].split()[0])
    assert doc.xref_get_key(info, "ZhichengCertificate") == ("string", "32000020264000007X:v1")
    assert doc.xref_get_key(info, "ZhichengKeyId") == ("string", key.key_id)
    seal = read_seal(data)
    assert (seal.certificate_no, seal.version, seal.key_id) == ("32000020264000007X", 1, key.key_id)
    assert verify_signature(key.private.public_key(), seal.signature, seal.message)
