"""The synthetic-year generator: deterministic, consistent with config, faults as listed."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from pathlib import Path

import pymupdf
import pytest
from PIL import Image

from zhicheng.config import load_config
from zhicheng.domain.identity import id_number_problems, uscc_problems
from zhicheng.standins.faultplan import KINDS
from zhicheng.standins.generator import generate
from zhicheng.standins.yearfiles import read_jsonl, read_material

CONFIG = load_config(Path(__file__).resolve().parents[2] / "config")
GEN = CONFIG.generator.generator


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    out = tmp_path_factory.mktemp("year")
    manifest = generate(out, applications=120, seed=11, config=CONFIG, fault_rate=0.6)
    subs = read_jsonl(out / "submissions.jsonl")
    return {"out": out, "manifest": manifest, "subs": {s["submission_id"]: s for s in subs},
            "order": [s["submission_id"] for s in subs],
            "materials": read_jsonl(out / "materials.jsonl"),
            "records": {r["id_number"]: r for r in read_jsonl(out / "chsi" / "records.jsonl")},
            "reports": {r["online_code"]: r for r in read_jsonl(out / "chsi" / "reports.jsonl")}}


def _faulty(year) -> set[str]:
    return {f["submission_id"] for f in year["manifest"]["faults"]}


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_the_same_bytes(tmp_path):
    a = generate(tmp_path / "a", applications=25, seed=3, config=CONFIG, fault_rate=0.5)
    b = generate(tmp_path / "b", applications=25, seed=3, config=CONFIG, fault_rate=0.5)
    assert a == b
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    generate(tmp_path / "c", applications=25, seed=4, config=CONFIG, fault_rate=0.5)
    assert _tree(tmp_path / "a")["submissions.jsonl"] != _tree(tmp_path / "c")["submissions.jsonl"]


def test_built_applications_keep_their_files_on_disk_not_in_memory(tmp_path):
    """A large year's files do not fit in memory (10,000 applications are several GB)."""
    from zhicheng.standins.generator import Year
    year = Year(CONFIG, tmp_path, applications=6, seed=3, batch_year=None, fault_rate=0.0)
    for i in range(6):
        year.build(i)
    materials = [m for state in year.apps for m in state["materials"]]
    assert materials and all(m.data == b"" and m.written.is_relative_to(tmp_path) for m in materials)
    assert all(len(m.content()) == m.size and hashlib.sha256(m.content()).hexdigest() == m.sha256
               for m in materials)


def test_refuses_a_non_empty_directory(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        generate(tmp_path / "x", applications=2, seed=1, config=CONFIG)


def test_a_wrong_generator_config_names_file_and_key(tmp_path):
    import dataclasses

    from zhicheng.config import ConfigError
    def with_generator(**update):
        gen = CONFIG.generator.model_copy(update={"generator": GEN.model_copy(update=update)})
        return dataclasses.replace(CONFIG, generator=gen)

    with pytest.raises(ConfigError, match=r"generator.yaml: key generator.faults.typo_kind"):
        generate(tmp_path / "y", applications=2, seed=1,
                 config=with_generator(faults={**GEN.faults, "typo_kind": 1}))
    with pytest.raises(ConfigError, match=r"generator.yaml: key generator.initial_levels.特级"):
        generate(tmp_path / "y", applications=2, seed=1,
                 config=with_generator(initial_levels={**GEN.initial_levels, "特级": 0.1}))


def test_every_fault_kind_is_planted_with_a_known_code(year):
    faults = year["manifest"]["faults"]
    assert {f["kind"] for f in faults} == {k for k, w in GEN.faults.items() if w > 0}
    for f in faults:
        assert f["code"] in CONFIG.findings, f["code"]
        assert f["code"] == KINDS[f["kind"]].code
        assert f["submission_id"] in year["subs"]


def test_manifest_counts_match_what_was_written(year):
    m, out = year["manifest"], year["out"]
    assert m["counts"]["submissions"] == len(year["subs"]) == 120
    assert m["counts"]["materials"] == len(year["materials"])
    assert m["counts"]["bytes"] == sum(len(read_material(out / r["path"])) for r in year["materials"])
    times = [dt.datetime.fromisoformat(year["subs"][s]["submitted_at"]) for s in year["order"]]
    assert times == sorted(times)


def test_files_match_their_declared_hash_and_size_except_planted(year):
    planted = {(f["submission_id"], f["material_id"]) for f in year["manifest"]["faults"]
               if f["kind"] in ("hash_mismatch", "size_mismatch")}
    paths = {(r["submission_id"], r["material_id"]): year["out"] / r["path"] for r in year["materials"]}
    seen = 0
    for sid, sub in year["subs"].items():
        for m in sub["materials"]:
            data = read_material(paths[(sid, m["material_id"])])
            ok = m["size"] == len(data) and m["sha256"] == hashlib.sha256(data).hexdigest()
            if not isinstance(m["size"], int):
                continue  # the ill-typed submission
            assert ok != ((sid, m["material_id"]) in planted), (sid, m)
            seen += 1
    assert seen > 500


def test_same_file_at_two_applicants_only_where_planted(year):
    by_hash: dict[str, set[str]] = {}
    for r in year["materials"]:
        digest = hashlib.sha256(read_material(year["out"] / r["path"])).hexdigest()
        by_hash.setdefault(digest, set()).add(r["submission_id"])
    shared = {frozenset(s) for s in by_hash.values() if len(s) > 1}
    planted = [f["submission_id"] for f in year["manifest"]["faults"] if f["kind"] == "duplicate_file"]
    assert shared and all(sid in planted for pair in shared for sid in pair)


def test_clean_ids_and_usccs_are_valid_and_planted_ones_not(year):
    bad_id = {f["submission_id"] for f in year["manifest"]["faults"] if f["kind"] == "id_check_char"}
    bad_gender = {f["submission_id"] for f in year["manifest"]["faults"] if f["kind"] == "gender_mismatch"}
    bad_uscc = {f["submission_id"] for f in year["manifest"]["faults"] if f["kind"] == "uscc_invalid"}
    for sid, sub in year["subs"].items():
        a = sub["applicant"]
        problems = id_number_problems(a["id_number"], gender=a["gender"], today=dt.date(2026, 6, 1))
        expected = ["check_char"] if sid in bad_id else ["gender"] if sid in bad_gender else []
        assert problems == expected, (sid, problems)
        assert (uscc_problems(sub["employer"]["uscc"]) != []) == (sid in bad_uscc)
        assert len(a["phone"]) == 11 if isinstance(a["phone"], str) else True
    assert any(s["employer"]["uscc"][0] in "N5" for s in year["subs"].values())


def test_clean_applications_keep_the_rules(year):
    period = CONFIG.policy.batches[2026]
    clean = [s for sid, s in year["subs"].items() if sid not in _faulty(year)]
    assert len(clean) > 20
    active: dict[str, str] = {}
    for sub in clean:
        d, e = sub["declared"], sub["employer"]
        assert CONFIG.regions.is_known(e["region_code"])
        assert period.opens_on <= dt.date.fromisoformat(sub["submitted_at"][:10]) <= period.closes_on
        if sub["track"] == "评审":
            c = CONFIG.committees[d["committee_id"]]
            assert c.series == d["series"] and d["specialty"] in c.specialties and d["level"] in c.levels
            assert CONFIG.regions.covers(c.covered_regions, e["region_code"]) and 2026 in c.open_years
        else:
            assert d["committee_id"] is None
        if sub["track"] in ("初定", "评审"):
            assert active.setdefault(sub["applicant"]["id_number"], sub["submission_id"]) == sub["submission_id"]
            _check_review_lists(sub)
        _check_required_materials(sub)


def _check_review_lists(sub):
    n = CONFIG.policy.assessment_period_years[sub["declared"]["level"]]
    years = set(range(2026 - n, 2026))
    ce = sub["continuing_education"]
    assert len(ce) <= 8 and {c["year"] for c in ce if c["kind"] == "公需科目" and c["passed"]} == years
    assert sorted(a["year"] for a in sub["annual_assessments"]) == sorted(years)
    assert 800 <= len(sub["work_summary"]) <= 2000
    assert sub["work_summary"].count("\n\n") < 10
    if sub["employer"]["public_institution_staff"]:
        assert all(a["material_id"] for a in sub["annual_assessments"])


def _check_required_materials(sub):
    types = [m["type"] for m in sub["materials"]]
    ids = {m["material_id"] for m in sub["materials"]}
    if sub["track"] in ("初定", "评审"):
        assert {"commitment", "employer_consent"} <= set(types)
        if sub["declared"]["series"] in CONFIG.policy.access_qualification_series:
            assert "access_qualification" in types
    elif sub["track"] in ("补办", "换发"):
        assert {"old_certificate", "void_notice", "reissue_form"} <= set(types) and sub["prior_certificate_no"]
    else:
        assert len({"history_form", "old_certificate", "history_approval"} & set(types)) >= 2
    for e in sub["education"]:
        assert e["certificate_no"]
        assert e["chsi_fetched"] or e["material_id"] in ids
    for entry in [*sub["continuing_education"], *sub["annual_assessments"], *sub["achievements"], *sub["papers"]]:
        assert entry["material_id"] is None or entry["material_id"] in ids
    assert set(types) <= {"id_card", "photo", "diploma", "degree", "chsi_report", "commitment", "employer_consent",
                          "annual_assessment", "continuing_education", "social_insurance", "access_qualification",
                          "achievement", "award", "paper", "old_certificate", "void_notice", "reissue_form",
                          "history_form", "history_approval", "other"}


def test_clean_files_pass_the_material_checks(year):
    limits = CONFIG.policy.materials
    faulty = _faulty(year)
    checked = 0
    for r in year["materials"]:
        if r["submission_id"] in faulty:
            continue
        sub = year["subs"][r["submission_id"]]
        m = next(x for x in sub["materials"] if x["material_id"] == r["material_id"])
        data = read_material(year["out"] / r["path"])
        limit = limits.large_attachment_kb if m["type"] in limits.large_types else limits.max_attachment_kb
        assert len(data) <= limit * 1024
        if m["type"] == "photo":
            img = Image.open(io.BytesIO(data))
            assert img.format == "JPEG" and img.width >= 330 and img.height >= 480
            assert abs(img.width / img.height / (33 / 48) - 1) <= 0.05
            continue
        assert data.startswith(b"%PDF-")
        doc = pymupdf.open(stream=data)
        assert not doc.is_encrypted and not doc.is_repaired and 1 <= doc.page_count <= 200
        assert doc.embfile_count() == 0 and b"/JavaScript" not in data and b"/Launch" not in data
        for page in doc:
            assert page.get_text().strip() or page.get_images()
            for info in page.get_image_info():
                width_in = (info["bbox"][2] - info["bbox"][0]) / 72
                assert info["width"] / width_in >= 150
        checked += 1
    assert checked > 200


def test_planted_files_show_their_fault(year):
    paths = {(r["submission_id"], r["material_id"]): year["out"] / r["path"] for r in year["materials"]}
    for f in year["manifest"]["faults"]:
        if KINDS[f["kind"]].stage != "file" or f["kind"] in ("hash_mismatch", "size_mismatch"):
            continue
        data = read_material(paths[(f["submission_id"], f["material_id"])])
        assert len(data) < 1_000_000, f
        kind = f["kind"]
        if kind == "not_pdf":
            assert not data.startswith(b"%PDF")
        elif kind == "encrypted":
            assert pymupdf.open(stream=data).needs_pass
        elif kind in ("javascript", "launch_action"):
            assert (b"/JavaScript" if kind == "javascript" else b"/Launch") in data
        elif kind == "embedded_file":
            assert pymupdf.open(stream=data).embfile_count() == 1
        elif kind == "blank_page":
            doc = pymupdf.open(stream=data)
            assert any(not p.get_text().strip() and not p.get_images() for p in doc)
        elif kind == "huge_page_count":
            assert pymupdf.open(stream=data).page_count > 200
        elif kind == "malformed_xref":
            assert pymupdf.open(stream=data).is_repaired
        elif kind == "oversize":
            assert len(data) > CONFIG.policy.materials.max_attachment_kb * 1024
        elif kind == "photo_proportions":
            img = Image.open(io.BytesIO(data))
            assert abs(img.width / img.height / (33 / 48) - 1) > 0.05
        elif kind == "photo_low_resolution":
            img = Image.open(io.BytesIO(data))
            assert img.width < 330 and abs(img.width / img.height / (33 / 48) - 1) <= 0.05
        elif kind == "photo_not_image":
            assert data.startswith(b"%PDF")
        elif kind == "empty_pdf":
            assert pymupdf.open(stream=data).page_count == 0
        elif kind == "low_dpi":
            info = pymupdf.open(stream=data)[0].get_image_info()[0]
            assert info["width"] / ((info["bbox"][2] - info["bbox"][0]) / 72) < 150


def test_chsi_holds_clean_education_and_reports_carry_their_code(year):
    faulty = _faulty(year)
    report_files = {(r["submission_id"], r["material_id"]): year["out"] / r["path"] for r in year["materials"]}
    for sid, sub in year["subs"].items():
        if sid in faulty:
            continue
        held = year["records"][sub["applicant"]["id_number"]]
        assert held["name"] == sub["applicant"]["name"]
        keys = ("kind", "level", "school", "major", "graduation_date", "certificate_no")
        assert [{k: e[k] for k in keys} for e in sub["education"]] == \
               [{k: r[k] for k in keys} for r in held["records"]]
        for m in sub["materials"]:
            if m["type"] == "chsi_report":
                text = pymupdf.open(stream=read_material(report_files[(sid, m["material_id"])]))[0].get_text()
                code = text.split("在线验证码：")[1][:16]
                report = year["reports"][code]
                assert report["id_number"] == sub["applicant"]["id_number"]
                assert report["valid_until"] > "2026-12-31"


def test_extra_fields_are_listed(year):
    for extra in year["manifest"]["extras"]:
        sub = year["subs"][extra["submission_id"]]
        assert "hall_extension" in sub and "nation" in sub["applicant"]


def test_cli_generate_writes_a_year(tmp_path):
    from typer.testing import CliRunner

    from zhicheng.cli.main import app
    result = CliRunner().invoke(app, ["generate", "--applications", "3", "--seed", "5", "--out",
                                      str(tmp_path / "y"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["counts"]["submissions"] == 3
    again = CliRunner().invoke(app, ["generate", "--applications", "3", "--seed", "5", "--out", str(tmp_path / "y")])
    assert again.exit_code == 2
