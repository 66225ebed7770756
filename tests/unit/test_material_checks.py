"""Rules of rules.md "Materials" for one file: inspection facts + declaration -> findings."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from zhicheng.config import load_config
from zhicheng.domain.material_checks import (Declared, Inspection, Limits, beyond_cap_finding, download_cap,
                                              file_findings)

CONFIG = load_config(Path(__file__).resolve().parents[2] / "config")
LIMITS = Limits.from_policy(CONFIG.policy.materials)
SHA = "ab" * 32
PDF = Inspection(size=100_000, sha256=SHA, kind="pdf", pages=2)
PHOTO = Inspection(size=40_000, sha256=SHA, kind="jpeg", image_ok=True, image_size=(390, 567))


def codes(seen: Inspection, type_: str = "commitment", size: int | None = None, sha: str | None = SHA) -> list[str]:
    declared = Declared("M01", type_, "承诺书.pdf", seen.size if size is None else size, sha)
    return [f.code for f in file_findings(declared, seen, LIMITS, CONFIG.findings)]


def test_a_sound_pdf_and_photo_have_no_findings():
    assert codes(PDF) == [] and codes(PHOTO, "photo") == []


def test_a_file_that_is_not_the_declared_upload_is_judged_on_nothing_else():
    assert codes(replace(PDF, kind="zip"), size=200_000) == ["material.hash_mismatch"]
    assert codes(PDF, sha="cd" * 32) == ["material.hash_mismatch"]
    assert codes(PDF, sha="AB" * 32) == []   # hex case is not a difference


def test_size_limits_depend_on_the_type():
    big = replace(PDF, size=600 * 1024)
    assert codes(big) == ["material.too_large"]
    assert codes(big, "achievement") == []
    assert codes(replace(PDF, size=10_001 * 1024), "paper") == ["material.too_large"]


def test_the_too_large_message_names_sizes():
    declared = Declared("M01", "id_card", "身份证.pdf", 600 * 1024, SHA)
    (f,) = file_findings(declared, replace(PDF, size=600 * 1024), LIMITS, CONFIG.findings)
    assert "600KB" in f.message and "500KB" in f.message and f.material_id == "M01"


def test_a_download_is_capped_by_the_size_limit_or_the_smaller_declared_size():
    def cap(type_, size):
        return download_cap(Declared("M01", type_, "f.pdf", size, None), LIMITS)
    assert cap("id_card", None) == cap("id_card", 400 * 2**20) == 500 * 1024
    assert cap("paper", None) == 10_000 * 1024 and cap("paper", 2000) == cap("id_card", 2000) == 2000
    assert cap("id_card", -1) == 500 * 1024          # an impossible declaration caps nothing


def test_a_file_beyond_its_cap_is_too_large_or_not_the_declared_upload():
    big = Declared("M01", "id_card", "身份证.pdf", 400 * 2**20, None)
    f = beyond_cap_finding(big, 400 * 2**20, 500 * 1024, LIMITS, CONFIG.findings)
    assert (f.code, f.params["size_kb"], f.params["limit_kb"]) == ("material.too_large", 409600, 500)
    f = beyond_cap_finding(big, None, 500 * 1024, LIMITS, CONFIG.findings)     # no Content-Length: at least
    assert (f.code, f.params["size_kb"]) == ("material.too_large", 501)
    liar = Declared("M02", "paper", "论文.pdf", 2000, None)
    f = beyond_cap_finding(liar, 400 * 2**20, 2000, LIMITS, CONFIG.findings)
    assert f.code == "material.hash_mismatch" and "申报大小2000字节，实际收到419430400字节" in f.message
    f = beyond_cap_finding(liar, None, 2000, LIMITS, CONFIG.findings)
    assert "实际收到超过2000字节" in f.message and f.material_id == "M02"


@pytest.mark.parametrize("change, code", [
    ({"kind": "zip"}, "material.not_pdf"),
    ({"opens": False, "problem": "no objects"}, "material.corrupt"),
    ({"encrypted": True}, "material.encrypted"),
    ({"pages": 0}, "material.empty"),
    ({"pages": 201}, "material.too_many_pages"),
    ({"active_content": ("javascript", "launch")}, "material.active_content"),
    ({"unsafe": "nesting"}, "material.unsafe"),
])
def test_one_fault_one_finding(change, code):
    assert codes(replace(PDF, **change)) == [code]


@pytest.mark.parametrize("reason, words", [("unreadable", "检查程序的结果无法读取"),
                                           ("crash", "文件导致检查程序异常退出")])
def test_an_unsafe_file_says_why_in_words(reason, words):
    (f,) = file_findings(Declared("M01", "commitment", "承诺书.pdf", PDF.size, SHA),
                         replace(PDF, unsafe=reason), LIMITS, CONFIG.findings)
    assert f.code == "material.unsafe" and f"（{words}）" in f.message


def test_blank_and_low_resolution_pages_are_one_finding_each_listing_pages():
    seen = replace(PDF, pages=4, blank_pages=(2, 4), scan_dpi=((1, 96), (3, 100), (4, 300)))
    found = file_findings(Declared("M01", "id_card", "身份证.pdf", seen.size, SHA), seen, LIMITS, CONFIG.findings)
    assert [f.code for f in found] == ["material.blank_page", "material.low_resolution"]
    assert "第2、4页" in found[0].message
    assert "第1、3页" in found[1].message and "96dpi" in found[1].message


def test_scans_at_the_limit_pass():
    assert codes(replace(PDF, scan_dpi=((1, 150),))) == []


@pytest.mark.parametrize("seen, code", [
    (replace(PHOTO, kind="pdf"), "photo.not_image"),
    (replace(PHOTO, image_ok=False), "photo.not_image"),
    (replace(PHOTO, image_size=(500, 500)), "photo.proportions"),
    (replace(PHOTO, image_size=(264, 384)), "photo.resolution"),
    (replace(PHOTO, image_size=(400, 567)), None),      # within 5 % of 33:48
])
def test_photo(seen, code):
    assert codes(seen, "photo") == ([code] if code else [])


def test_inspection_round_trips_through_json_shapes():
    seen = replace(PDF, scan_dpi=((1, 96),), active_content=("javascript",))
    assert Inspection.from_dict(seen.as_dict()) == seen
    assert Inspection.from_dict({**PHOTO.as_dict(), "image_size": [390, 567]}) == PHOTO
