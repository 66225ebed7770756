"""The inspector on real files, hostile ones included: each becomes facts (and so a
finding), never a hung or crashed worker; the worker survives to inspect the next file."""
from __future__ import annotations


import pytest

import hostile_pdfs as h
from zhicheng.config import get_config
from zhicheng.domain.material_checks import Declared, Limits, file_findings
from zhicheng.files.pdf_inspect import Inspector, InspectLimits

LIMITS = InspectLimits()


@pytest.fixture(scope="module")
def inspector():
    with Inspector(LIMITS) as ins:
        yield ins


@pytest.fixture
def look(inspector, tmp_path):
    def run(data: bytes, photo: bool = False):
        path = tmp_path / "upload.bin"
        path.write_bytes(data)
        return inspector.inspect(path, photo=photo)
    return run


def test_a_sound_text_pdf(look):
    seen = look(h.text_pdf(3))
    assert (seen.kind, seen.opens, seen.encrypted, seen.pages) == ("pdf", True, False, 3)
    assert seen.active_content == () and seen.blank_pages == () and seen.scan_dpi == ()


def test_blank_pages_are_found_also_under_a_white_background(look):
    assert look(h.text_pdf(2, blank_after=True)).blank_pages == (3,)
    assert look(h.white_page_pdf()).blank_pages == (1,)


def test_scan_resolution_is_measured_per_page(look):
    assert look(h.scan_pdf(96)).scan_dpi == ((1, 96),)
    good = look(h.scan_pdf(200, white_background=True))
    assert good.scan_dpi == ((1, 200),) and good.blank_pages == ()


@pytest.mark.parametrize("make, kinds", [(h.with_javascript, ("javascript",)),
                                         (h.with_link_launch, ("launch",)),
                                         (h.with_embedded_file, ("embedded_file",))])
def test_active_content(look, make, kinds):
    assert look(make()).active_content == kinds


def test_encrypted(look):
    assert look(h.encrypted_pdf()).encrypted is True


@pytest.mark.parametrize("maker", ["pypdf", "pymupdf"])
def test_an_owner_password_alone_is_encrypted_too(look, maker):
    """It opens without a password and PyMuPDF calls it not encrypted; the trailer
    names /Encrypt, and rules.md says a material must not be encrypted."""
    seen = look(h.owner_password_only(maker))
    assert seen.encrypted is True
    declared = Declared("M01", "commitment", "承诺书.pdf", seen.size, seen.sha256)
    limits = Limits.from_policy(get_config().policy.materials)
    assert [f.code for f in file_findings(declared, seen, limits, get_config().findings)] == ["material.encrypted"]


def test_not_a_pdf_by_content(look):
    assert look(h.word_document()).kind == "zip"
    assert look(h.photo((100, 100))).kind == "jpeg"
    assert look(b"").kind == "empty"


@pytest.mark.parametrize("make, expected", [
    (h.bomb, {"unsafe": "image_pixels"}),
    (h.deeply_nested, {"unsafe": "nesting"}),
    (h.many_pages, {"unsafe": None, "opens": True, "pages": 100_000}),
    (h.page_tree_loop, {"unsafe": None, "opens": False}),
    (h.truncated, {"unsafe": None, "opens": False}),
])
def test_hostile_structures(look, make, expected):
    seen = look(make())
    assert {k: getattr(seen, k) for k in expected} == expected


def test_photo_size_and_decoding(look):
    assert look(h.photo((390, 567)), photo=True).image_size == (390, 567)
    assert look(h.photo((500, 500), "PNG"), photo=True).image_ok is True
    broken = look(h.photo((390, 567))[:300], photo=True)
    assert broken.kind == "jpeg" and broken.image_ok is False


def test_time_and_memory_limits_end_in_findings_and_the_worker_goes_on(tmp_path):
    files = {"ok": h.text_pdf(), "slow": h.content_bomb(), "huge": h.photo((6000, 6000), "PNG")}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    with Inspector(InspectLimits(seconds_per_file=1, memory_mb=64)) as ins:
        slow = ins.inspect(tmp_path / "slow", photo=False)
        after = ins.inspect(tmp_path / "ok", photo=False)
        huge = ins.inspect(tmp_path / "huge", photo=True)
        last = ins.inspect(tmp_path / "ok", photo=False)
    assert slow.unsafe == "time" and slow.size == len(files["slow"])
    assert huge.unsafe == "memory"
    assert after.pages == 1 and last.pages == 1 and after.unsafe is None


def test_text_is_read_in_the_worker_and_a_hostile_file_gives_none(tmp_path):
    """The 学信 report's text layer: what a sound PDF says; '' for what is not a PDF, too
    deep, too long, or past the time limit, and the worker goes on after each."""
    files = {"ok": h.text_pdf(2), "slow": h.content_bomb(), "nested": h.deeply_nested(),
             "pages": h.many_pages(), "word": h.word_document(), "encrypted": h.encrypted_pdf()}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    with Inspector(InspectLimits(seconds_per_file=1, memory_mb=64)) as ins:
        texts = {name: ins.text(tmp_path / name) for name in files}
        again = ins.text(tmp_path / "ok")
    assert "Page 1: declaration text" in texts["ok"] and "Page 2: declaration text" in texts["ok"]
    assert again == texts["ok"]
    assert {name: text for name, text in texts.items() if name != "ok"} == {
        "slow": "", "nested": "", "pages": "", "word": "", "encrypted": ""}
