"""Rules of rules.md "Identity and organisation checks", required materials and list limits."""
from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest

from zhicheng.config import load_config
from zhicheng.domain import submission_checks as sc
from zhicheng.domain.certificate_numbers import make_number
from zhicheng.domain.identity import make_id_number, make_uscc

CONFIG = load_config(Path(__file__).resolve().parents[2] / "config")
POLICY = sc.Policy.from_config(CONFIG.policy, CONFIG.materials)
TODAY = dt.date(2026, 6, 1)
ID = make_id_number("320102", dt.date(1985, 3, 4), 7, "男")


def clean(track: str = "评审") -> dict:
    years = range(2021, 2026)
    mats = [("M01", "id_card"), ("M02", "photo"), ("M03", "commitment"), ("M04", "employer_consent"),
            ("M05", "diploma"), *[(f"A{y}", "annual_assessment") for y in years]]
    return {
        "submission_id": "JS2026000001", "revision": 1, "track": track, "batch_year": 2026,
        "submitted_at": "2026-06-03T10:12:00+08:00",
        "applicant": {"name": "王伟", "id_number": ID, "gender": "男", "phone": "13800000000"},
        "employer": {"name": "某公司", "uscc": make_uscc("12", "320102", "46600001"), "nature": "事业单位",
                     "region_code": "320102", "public_institution_staff": True},
        "declared": {"level": "副高级", "series": "工程", "specialty": "电气工程", "qualification_name": "高级工程师",
                     "committee_id": "JS-GC-DQ-GJ" if track == "评审" else None, "reporting_level": "省直"},
        "education": [{"kind": "学历", "level": "本科", "school": "南京大学", "major": "电气工程",
                       "graduation_date": "2007-06-30", "certificate_no": "102841200705001234",
                       "chsi_fetched": False, "material_id": "M05"}],
        "continuing_education": [{"year": y, "course": "公需", "kind": "公需科目", "hours": 24, "passed": True}
                                 for y in years],
        "annual_assessments": [{"year": y, "result": "合格", "material_id": f"A{y}"} for y in years],
        "work_summary": "工作" * 500,
        "materials": [{"material_id": m, "type": t, "file_name": f"{m}.pdf", "size": 1, "sha256": "0" * 64}
                      for m, t in mats],
        "prior_certificate_no": None,
    }


def codes(sub: dict) -> list[str]:
    return sorted(f.code for f in sc.application_findings(sub, policy=POLICY, cat=CONFIG.findings, today=TODAY,
                                                          regions=CONFIG.regions, committees=CONFIG.committees))


def changed(path: str, value, sub: dict | None = None) -> dict:
    sub = copy.deepcopy(sub or clean())
    *parents, last = path.split(".")
    target = sub
    for p in parents:
        target = target[int(p)] if isinstance(target, list) else target[p]
    target[last] = value
    return sub


def test_a_clean_submission_has_no_findings():
    assert codes(clean()) == []


@pytest.mark.parametrize("path, value, code", [
    ("applicant.id_number", ID[:17] + ("0" if ID[17] != "0" else "1"), "applicant.id_number_invalid"),
    ("applicant.gender", "女", "applicant.gender_mismatch"),
    ("employer.uscc", make_uscc("12", "320102", "46600001")[:17] + "0", "employer.uscc_invalid"),
    ("declared.committee_id", "NOPE", "committee.unknown"),
    ("declared.level", "中级", "committee.not_covering"),
    ("submitted_at", "2026-05-01T09:00:00+08:00", "submission.outside_period"),
    ("work_summary", "字" * 2001, "summary.too_long"),
    ("work_summary", "工作\n" + "\n" * 12, "summary.many_blank_lines"),
])
def test_one_fault_one_finding(path, value, code):
    assert codes(changed(path, value)) == [code]


def test_a_city_committee_covers_only_its_city():
    sub = changed("declared.committee_id", "NJ-GC-ZJ")
    sub["declared"]["level"] = "中级"
    assert codes(sub) == []
    sub["employer"]["region_code"] = "321202"
    assert codes(sub) == ["committee.region_not_covered"]


def test_a_uscc_may_start_with_a_letter():
    assert codes(changed("employer.uscc", make_uscc("N2", "320102", "46600001"))) == []


def test_unknown_region_without_committee():
    sub = changed("employer.region_code", "329999", clean("初定"))
    sub["declared"]["level"] = "助理级"
    assert "employer.region_unknown" in codes(sub)


def test_assessment_period_lists():
    sub = clean()
    sub["continuing_education"] = [c for c in sub["continuing_education"] if c["year"] != 2023]
    assert codes(sub) == ["continuing_education.missing_year"]
    sub = clean()
    sub["continuing_education"] += [{"year": 2024, "kind": "专业科目", "passed": True}] * 4
    assert codes(sub) == ["continuing_education.too_many"]
    sub = clean()
    sub["annual_assessments"][1]["material_id"] = None
    assert codes(sub) == ["annual_assessment.form_missing"]
    sub["employer"]["public_institution_staff"] = False
    sub["annual_assessments"].pop(0)
    assert codes(sub) == ["annual_assessment.missing_year"]


def test_required_materials_by_track():
    sub = clean()
    sub["materials"] = [m for m in sub["materials"] if m["type"] != "commitment"]
    (f,) = [f for f in sc.material_list_findings(sub, POLICY, CONFIG.findings)]
    assert f.code == "material.missing" and "个人诚信承诺书" in f.message
    history = clean("历史登记")
    history["materials"] = [{"material_id": "H1", "type": "history_form"}, {"material_id": "H2", "type": "id_card"}]
    assert [f.code for f in sc.material_list_findings(history, POLICY, CONFIG.findings)] == ["material.missing"]
    history["materials"].append({"material_id": "H3", "type": "history_approval"})
    assert sc.material_list_findings(history, POLICY, CONFIG.findings) == []


def test_access_qualification_and_unknown_types():
    sub = changed("declared.series", "卫生技术")
    assert "access_qualification.missing" in [f.code for f in sc.material_list_findings(sub, POLICY, CONFIG.findings)]
    sub = clean()
    sub["materials"].append({"material_id": "X", "type": "shenbaobiao", "file_name": "申报表.pdf"})
    (f,) = sc.material_list_findings(sub, POLICY, CONFIG.findings)
    assert (f.code, f.severity, f.material_id) == ("material.unknown_type", "warning", "X")


def test_education_numbers_and_scans():
    sub = changed("education.0.certificate_no", None)
    assert codes(sub) == ["education.no_certificate_no"]
    sub = changed("education.0.material_id", None)
    assert codes(sub) == ["education.scan_missing"]
    sub["education"][0]["chsi_fetched"] = True
    assert codes(sub) == []


def test_summary_short_only_for_初定():
    sub = clean("初定")
    sub["declared"].update(level="助理级", committee_id=None)
    sub["work_summary"] = "字" * 700
    assert codes(sub) == ["summary.too_short"]
    assert sc.summary_findings({**sub, "track": "评审"}, POLICY, CONFIG.findings) == []


def test_prior_certificate_number_is_checked_for_reissues():
    sub = clean("补办")
    good = make_number("320000", 2020, 3, 12)
    assert sc.prior_certificate_findings({**sub, "prior_certificate_no": good}, CONFIG.findings) == []
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    (f,) = sc.prior_certificate_findings({**sub, "prior_certificate_no": bad}, CONFIG.findings)
    assert f.code == "reissue.prior_certificate_unknown"
    assert sc.prior_certificate_findings({**sub, "prior_certificate_no": good}, CONFIG.findings, known=[]) != []


def test_ill_typed_parts_do_not_raise():
    sub = clean()
    sub["education"] = {"not": "a list"}
    sub["materials"] = None
    assert "education.no_certificate_no" in codes(sub)


def test_the_bad_id_number_finding_quotes_the_number_masked():
    # its message goes to the applicant by the hall's SMS (docs/privacy.md)
    bad = ID[:17] + ("0" if ID[17] != "0" else "1")
    (finding,) = sc.identity_findings(changed("applicant.id_number", bad), CONFIG.findings, TODAY)
    assert bad not in finding.message and bad not in str(finding.params)
    assert f"“{bad[:4]}{'*' * 10}{bad[-4:]}”" in finding.message


def test_the_declaration_period_binds_the_tracks_config_names_only():
    late = "2026-12-01T10:00:00+08:00"
    assert POLICY.period_tracks == {"初定", "评审"}
    assert codes(changed("submitted_at", late)) == ["submission.outside_period"]
    reissue = changed("submitted_at", late, changed("track", "历史登记"))
    assert "submission.outside_period" not in codes(reissue)


def test_a_resubmission_is_judged_by_its_first_declaration():
    resubmitted = changed("revision", 2, changed("submitted_at", "2026-11-20T09:00:00+08:00"))
    found = sc.period_findings(resubmitted, POLICY, CONFIG.findings, declared_at="2026-06-03T10:12:00+08:00")
    assert found == []
    late_first = sc.period_findings(resubmitted, POLICY, CONFIG.findings, declared_at="2026-10-08T09:00:00+08:00")
    assert [f.code for f in late_first] == ["submission.outside_period"]


def test_year_round_services_ask_no_period_and_no_education():
    """补办, 换发 and 历史登记 are services of the whole year, and their forms never ask for
    education; 初定 and 评审 keep both (seed 000 chapters 4-5)."""
    december = "2026-12-03T10:00:00+08:00"
    no_education = {"education": [], "submitted_at": december}
    assert "submission.outside_period" in codes(changed("submitted_at", december))
    assert "education.no_certificate_no" in codes(changed("education", []))
    prior = make_number("320100", 2016, 3, 812)
    for track, extra in (("补办", {"prior_certificate_no": prior}), ("换发", {"prior_certificate_no": prior}),
                         ("历史登记", {"historical_certificate": {
                             "certificate_no": "32012009300123", "obtained_by": "初定",
                             "approved_on": "2009-12-03", "issued_on": "2009-12-20",
                             "issuer": "南京市人力资源和社会保障局", "issuer_region_code": "320100"}})):
        sub = {**clean(track), **no_education, **extra}
        found = sc.application_findings(sub, policy=POLICY, cat=CONFIG.findings, today=dt.date(2026, 12, 3),
                                        regions=CONFIG.regions, committees=CONFIG.committees)
        assert not {f.code for f in found} & {"submission.outside_period", "education.no_certificate_no"}, track


def test_a_review_application_needs_a_committee():
    (f,) = [f for f in sc.committee_findings(changed("declared.committee_id", None), CONFIG.findings,
                                             CONFIG.regions, CONFIG.committees)]
    assert f.code == "committee.missing" and f.severity == "error" and f.field == "declared.committee_id"
    assert sc.committee_findings(clean("初定"), CONFIG.findings, CONFIG.regions, CONFIG.committees) == []
