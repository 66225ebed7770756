"""Each planted fault yields its own finding and nothing else does.

A small reference checker (an oracle written from rules.md, independent of the
generator's code) derives the finding codes every submission should get; they must be
exactly the codes the manifest lists for it. Hostile files are recognised from their
bytes before any parser touches them.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from collections import Counter
from pathlib import Path

import pymupdf
import pytest
from PIL import Image

from zhicheng.config import load_config
from zhicheng.domain.checksums import mod11_2_check_char
from zhicheng.domain.identity import id_number_problems, uscc_problems
from zhicheng.standins.generator import generate
from zhicheng.standins.yearfiles import read_jsonl, read_material

CONFIG = load_config(Path(__file__).resolve().parents[2] / "config")
POLICY = CONFIG.policy
MAT = POLICY.materials
KNOWN_TYPES = {"id_card", "photo", "diploma", "degree", "chsi_report", "commitment", "employer_consent",
               "annual_assessment", "continuing_education", "social_insurance", "access_qualification",
               "achievement", "award", "paper", "work_summary_attachment", "old_certificate", "void_notice",
               "reissue_form", "history_form", "history_approval", "other"}
TODAY = dt.date(2026, 6, 1)


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    out = tmp_path_factory.mktemp("oracle")
    manifest = generate(out, applications=160, seed=29, config=CONFIG, fault_rate=0.5)
    return {"out": out, "manifest": manifest, "subs": read_jsonl(out / "submissions.jsonl"),
            "paths": {(r["submission_id"], r["material_id"]): out / r["path"]
                      for r in read_jsonl(out / "materials.jsonl")},
            "records": {r["id_number"]: r for r in read_jsonl(out / "chsi" / "records.jsonl")},
            "reports": {r["online_code"]: r for r in read_jsonl(out / "chsi" / "reports.jsonl")},
            "province": {r["certificate_no"] for r in read_jsonl(out / "province" / "certificates.jsonl")}}


def test_the_oracle_finds_exactly_the_planted_faults(year):
    listed: dict[str, Counter] = {}
    for f in year["manifest"]["faults"]:
        listed.setdefault(f["submission_id"], Counter())[f["code"]] += 1
    shared = _shared_files(year)
    active: set[str] = set()
    wrong = []
    for sub in year["subs"]:
        found = Counter(expected_codes(sub, year, shared, active))
        if found != listed.get(sub["submission_id"], Counter()):
            wrong.append((sub["submission_id"], dict(found), dict(listed.get(sub["submission_id"], {}))))
    assert not wrong, wrong[:5]
    assert sum(len(c) for c in listed.values()) > 60


def _shared_files(year) -> set[tuple[str, str]]:
    owners: dict[str, set[str]] = {}
    where: dict[str, list[tuple[str, str]]] = {}
    ids = {s["submission_id"]: s["applicant"]["id_number"] for s in year["subs"]}
    for (sid, mid), path in year["paths"].items():
        digest = hashlib.sha256(read_material(path)).hexdigest()
        owners.setdefault(digest, set()).add(ids[sid])
        where.setdefault(digest, []).append((sid, mid))
    return {place for d, o in owners.items() if len(o) > 1 for place in where[d]}


def expected_codes(sub, year, shared, active) -> list[str]:
    if _invalid(sub):
        return ["submission.invalid"]
    codes = []
    period = POLICY.batches[sub["batch_year"]]
    review = sub["track"] in ("初定", "评审")   # 补办, 换发, 历史登记: all year, no education
    if sub["track"] in POLICY.declaration_period_tracks and \
            not period.opens_on <= dt.date.fromisoformat(sub["submitted_at"][:10]) <= period.closes_on:
        codes.append("submission.outside_period")
    a, e = sub["applicant"], sub["employer"]
    if sub["track"] in ("初定", "评审"):
        if a["id_number"] in active:
            codes.append("application.duplicate_active")
        active.add(a["id_number"])
    problems = id_number_problems(a["id_number"], gender=a["gender"], today=TODAY)
    codes += ["applicant.gender_mismatch"] if problems == ["gender"] else \
        ["applicant.id_number_invalid"] if problems else []
    codes += ["employer.uscc_invalid"] if uscc_problems(e["uscc"]) else []
    codes += [] if CONFIG.regions.is_known(e["region_code"]) else ["employer.region_unknown"]
    codes += _committee(sub)
    codes += _lists(sub)
    codes += _materials(sub)
    for m in sub["materials"]:
        codes += _file(sub, m, read_material(year["paths"][(sub["submission_id"], m["material_id"])]), shared)
    codes += _chsi(sub, year) if review else []
    if sub["prior_certificate_no"] is not None:
        no = sub["prior_certificate_no"]
        if mod11_2_check_char(no[:17]) != no[17]:
            codes.append("reissue.prior_certificate_unknown")
        elif no not in year["province"]:
            codes.append("reissue.prior_certificate_not_found")
    if sub["track"] == "历史登记":
        h = sub["historical_certificate"]
        codes += [] if "issued_on" in h else ["history.certificate_incomplete"]
        codes += ["history.already_held"] if h["certificate_no"] in year["province"] else []
    return codes


def _invalid(sub) -> bool:
    return not (isinstance(sub["batch_year"], int) and isinstance(sub["applicant"].get("phone"), str)
                and "level" in sub["declared"] and isinstance(sub["education"], list)
                and all(isinstance(m["size"], int) for m in sub["materials"]))


def _committee(sub) -> list[str]:
    d, region = sub["declared"], sub["employer"]["region_code"]
    if d["committee_id"] is None:
        return ["committee.missing"] if sub["track"] == "评审" else []
    c = CONFIG.committees.get(d["committee_id"])
    if c is None:
        return ["committee.unknown"]
    if sub["batch_year"] not in c.open_years:
        return ["committee.closed"]
    if not (c.series == d["series"] and d["specialty"] in c.specialties and d["level"] in c.levels):
        return ["committee.not_covering"]
    return [] if CONFIG.regions.covers(c.covered_regions, region) else ["committee.region_not_covered"]


def _lists(sub) -> list[str]:
    codes, text = [], sub["work_summary"]
    if len(text) > POLICY.work_summary.max_chars:
        codes.append("summary.too_long")
    if sub["track"] == "初定" and len(text) < POLICY.work_summary.warn_below_chars_初定:
        codes.append("summary.too_short")
    if sum(1 for line in text.split("\n") if not line.strip()) >= POLICY.work_summary.warn_blank_lines:
        codes.append("summary.many_blank_lines")
    if sub["track"] not in ("初定", "评审"):
        return codes
    years = range(sub["batch_year"] - POLICY.assessment_period_years[sub["declared"]["level"]], sub["batch_year"])
    ce = sub["continuing_education"]
    if len(ce) > POLICY.continuing_education.max_entries:
        codes.append("continuing_education.too_many")
    codes += ["continuing_education.missing_year" for y in years
              if not any(c["year"] == y and c["kind"] == "公需科目" and c["passed"] for c in ce)]
    codes += ["annual_assessment.missing_year" for y in years
              if not any(x["year"] == y for x in sub["annual_assessments"])]
    return codes


def _materials(sub) -> list[str]:
    types = Counter(m["type"] for m in sub["materials"])
    ids = {m["material_id"] for m in sub["materials"]}
    codes = ["material.unknown_type" for m in sub["materials"] if m["type"] not in KNOWN_TYPES]
    track = sub["track"]
    if track in ("初定", "评审"):
        codes += ["material.missing" for t in ("commitment", "employer_consent") if not types[t]]
        if sub["declared"]["series"] in POLICY.access_qualification_series and not types["access_qualification"]:
            codes.append("access_qualification.missing")
        if sub["employer"]["public_institution_staff"]:
            codes += ["annual_assessment.form_missing" for x in sub["annual_assessments"]
                      if x["material_id"] not in ids]
    elif track in ("补办", "换发"):
        codes += ["material.missing" for t in ("old_certificate", "void_notice", "reissue_form") if not types[t]]
    elif sum(1 for t in ("history_form", "old_certificate", "history_approval") if types[t]) < 2:
        codes.append("material.missing")
    if track not in ("初定", "评审"):
        return codes
    if not any(x["certificate_no"] for x in sub["education"]):
        codes.append("education.no_certificate_no")
    codes += ["education.scan_missing" for x in sub["education"]
              if x["certificate_no"] and not x["chsi_fetched"] and x["material_id"] not in ids]
    return codes


def _file(sub, m, data: bytes, shared) -> list[str]:
    codes = []
    if (sub["submission_id"], m["material_id"]) in shared:
        codes.append("material.duplicate_across_applicants")
    if len(data) != m["size"] or hashlib.sha256(data).hexdigest() != m["sha256"]:
        return codes + ["material.hash_mismatch"]
    limit = MAT.large_attachment_kb if m["type"] in MAT.large_types else MAT.max_attachment_kb
    if len(data) > limit * 1024:
        codes.append("material.too_large")
    if m["type"] == "photo":
        return codes + _photo(data)
    if not data.startswith(b"%PDF-"):
        return codes + ["material.not_pdf"]
    return codes + _pdf(data)


def _photo(data: bytes) -> list[str]:
    try:
        img = Image.open(io.BytesIO(data))
    except Exception:
        return ["photo.not_image"]
    if img.format not in ("JPEG", "PNG"):
        return ["photo.not_image"]
    if abs(img.width / img.height / (MAT.photo.width_mm / MAT.photo.height_mm) - 1) > MAT.photo.tolerance:
        return ["photo.proportions"]
    if img.width < MAT.photo.min_width_px or img.height < MAT.photo.min_height_px:
        return ["photo.resolution"]
    return []


def _pdf(data: bytes) -> list[str]:
    # hostile shapes first, from the bytes: deep nesting, images past the pixel limit
    if b"[" * MAT.inspect_limits.max_object_depth in data:
        return ["material.unsafe"]
    for w, h in re.findall(rb"/Width (\d+)/Height (\d+)", data):
        if int(w) * int(h) > MAT.inspect_limits.max_image_pixels:
            return ["material.unsafe"]
    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except Exception:
        return ["material.corrupt"]
    if doc.needs_pass or doc.is_encrypted:
        return ["material.encrypted"]
    if doc.is_repaired:
        return ["material.corrupt"]
    if doc.page_count == 0:
        return ["material.empty"]
    if doc.page_count > MAT.max_pages:
        return ["material.too_many_pages"]
    if b"/JavaScript" in data or b"/Launch" in data or doc.embfile_count():
        return ["material.active_content"]
    codes = []
    for page in doc:
        if not page.read_contents().strip() and not page.get_images():  # no text extraction: fast
            codes.append("material.blank_page")
        for info in page.get_image_info():
            if info["width"] / ((info["bbox"][2] - info["bbox"][0]) / 72) < MAT.min_scan_dpi:
                codes.append("material.low_resolution")
    return codes


def _chsi(sub, year) -> list[str]:
    a = sub["applicant"]
    held = year["records"].get(a["id_number"])
    if held is not None and held["name"] != a["name"]:
        return ["chsi.name_mismatch"]
    records = held["records"] if held else []
    codes = []
    for x in sub["education"]:
        rec = next((r for r in records if r["kind"] == x["kind"] and r["certificate_no"] == x["certificate_no"]), None)
        rec = rec or next((r for r in records if r["kind"] == x["kind"] and r["level"] == x["level"]
                           and r["school"] == x["school"]), None)
        if rec is None:
            codes.append("chsi.not_held")
        elif any(rec[k] != x[k] for k in ("school", "major", "graduation_date", "level")):
            codes.append("chsi.mismatch")
    for m in sub["materials"]:
        if m["type"] == "chsi_report":
            codes += _report(sub, year, year["paths"][(sub["submission_id"], m["material_id"])])
    return codes


def _report(sub, year, path: Path) -> list[str]:
    text = pymupdf.open(stream=read_material(path))[0].get_text()
    found = re.search(r"在线验证码：([A-Z0-9]{16})", text)
    if not found:
        return ["chsi.report_unreadable"]
    report = year["reports"].get(found.group(1))
    if report is None:
        return ["chsi.report_unknown"]
    if dt.date.fromisoformat(report["valid_until"]) < TODAY:
        return ["chsi.report_expired"]
    if report["id_number"] != sub["applicant"]["id_number"] or report["name"] != sub["applicant"]["name"]:
        return ["chsi.report_other_person"]
    r = report["record"]
    same = any(all(r[k] == x[k] for k in ("kind", "level", "school", "major", "graduation_date"))
               for x in sub["education"])
    return [] if same else ["chsi.report_mismatch"]
