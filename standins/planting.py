"""Planting the data and material faults of one application (faultplan lists the kinds).

Each function takes the `Year` being built (for its policy, its other applications and
its manifest) and records what it planted with `year.fault(...)`."""
from __future__ import annotations

import random
from typing import Any

from zhicheng.standins import application as appl
from zhicheng.standins import faultplan as fp
from zhicheng.standins import vocab
from zhicheng.standins.materials import Builder, Material

_UNKNOWN_REGIONS = ("320199", "320599", "321299", "329900")
_UNKNOWN_TYPES = ("shenbaobiao", "xueli_renzheng", "job_contract")


def plant_data(year, rng: random.Random, sub: dict[str, Any], kind: str) -> None:
    a, e, d = sub["applicant"], sub["employer"], sub["declared"]
    if kind == "id_check_char":
        good = a["id_number"]
        a["id_number"] = good[:17] + rng.choice([c for c in "0123456789X" if c != good[17]])
        year.fault(sub, kind, field="applicant.id_number", detail=f"check character {good[17]} changed")
    elif kind == "gender_mismatch":
        a["gender"] = "女" if a["gender"] == "男" else "男"
        year.fault(sub, kind, field="applicant.gender")
    elif kind == "uscc_invalid":
        good = e["uscc"]
        e["uscc"] = good[:17] + rng.choice([c for c in "0123456789ABCDEFGHJKLMNPQRTUWXY" if c != good[17]])
        year.fault(sub, kind, field="employer.uscc", detail=f"check character {good[17]} changed")
    elif kind == "region_unknown":
        e["region_code"] = rng.choice(_UNKNOWN_REGIONS)
        year.fault(sub, kind, field="employer.region_code", detail=e["region_code"])
    elif kind == "committee_unknown":
        d["committee_id"] = rng.choice(("JS-GC-ZJ-2019", "NJ-JJ-GJ", "WX-GC-ZJ"))
        year.fault(sub, kind, field="declared.committee_id", detail=d["committee_id"])
    elif kind == "committee_not_covering":
        not_covering(year, rng, sub)
    elif kind == "outside_period":
        year.fault(sub, kind, field="submitted_at", detail=sub["submitted_at"])
    elif kind == "summary_too_long":
        sub["work_summary"] = appl.work_summary(rng, e["name"], d["specialty"], "重点项目", "论文",
                                                low=2200, high=2600)
        year.fault(sub, kind, field="work_summary", detail=f"{len(sub['work_summary'])} chars")
    elif kind == "ce_too_many":
        ce = sub["continuing_education"]
        limit = year.policy.continuing_education.max_entries
        while len(ce) <= limit + rng.randrange(3):
            ce.append({"year": ce[-1]["year"], "course": rng.choice(vocab.SUBJECT_COURSES).format(sp=d["specialty"]),
                       "kind": "专业科目", "hours": 16, "passed": True, "material_id": None})
        year.fault(sub, kind, field="continuing_education", detail=f"{len(ce)} entries")
    elif kind == "ce_missing_year":
        gap = rng.choice(sorted({c["year"] for c in sub["continuing_education"]}))
        sub["continuing_education"] = [c for c in sub["continuing_education"]
                                       if not (c["year"] == gap and c["kind"] == "公需科目")]
        year.fault(sub, kind, field="continuing_education", detail=str(gap))
    elif kind == "no_certificate_no":
        for entry in sub["education"]:
            entry["certificate_no"] = None
        year.fault(sub, kind, field="education", detail="学历证书编号和学位证书编号都未填写")
    elif kind == "summary_too_short":
        sub["work_summary"] = appl.work_summary(rng, e["name"], d["specialty"], "本岗位工作", "论文",
                                                low=300, high=rng.randint(500, 700))
        year.fault(sub, kind, field="work_summary", detail=f"{len(sub['work_summary'])} chars")
    elif kind == "summary_blank_lines":
        lines = sub["work_summary"].split("\n")
        blanks = max(12, len(lines))
        sub["work_summary"] = "\n\n".join(lines) + "\n" * (blanks - len(lines) + 1)
        year.fault(sub, kind, field="work_summary", detail=f"{blanks} blank lines")
    elif kind == "prior_unknown":
        good = sub["prior_certificate_no"]
        sub["prior_certificate_no"] = good[:17] + ("0" if good[17] != "0" else "1")
        year.fault(sub, kind, field="prior_certificate_no", detail=f"check character {good[17]} changed")
    elif kind == "prior_not_found":  # well formed, but the province holds no such certificate
        year.fault(sub, kind, field="prior_certificate_no", detail="not held by the province")
    elif kind == "history_incomplete":
        sub["historical_certificate"].pop("issued_on")
        year.fault(sub, kind, field="historical_certificate.issued_on", detail="issued_on left out")
    elif kind == "history_held":
        year.fault(sub, kind, field="historical_certificate.certificate_no",
                   detail="the province already holds it")
    elif kind == "committee_missing":
        sub["declared"]["committee_id"] = None
        year.fault(sub, kind, field="declared.committee_id", detail="评审 without a committee")
    elif kind == "assessment_missing_year":
        entry = sub["annual_assessments"].pop(rng.randrange(len(sub["annual_assessments"])))
        year.fault(sub, kind, field="annual_assessments", detail=str(entry["year"]))

def not_covering(year, rng: random.Random, sub: dict[str, Any]) -> None:
    """Name a province-wide committee (so the region is covered) that does not take the
    declared series, specialty or level."""
    d = sub["declared"]
    for c in year.ctx.committees:
        if "320000" in c.covered_regions and not (
                c.series == d["series"] and d["specialty"] in c.specialties and d["level"] in c.levels):
            d["committee_id"] = c.id
            year.fault(sub, "committee_not_covering", field="declared.committee_id",
                       detail=f"{c.id} does not take {d['series']}/{d['specialty']}/{d['level']}")
            return

def plant_materials(year, rng: random.Random, sub: dict, materials: list[Material], kind: str | None) -> None:
    head = [f"{sub['applicant']['name']} {sub['applicant']['id_number']}", sub["submission_id"]]
    if kind == "material_missing":
        wanted = {"初定": ("commitment", "employer_consent"), "评审": ("commitment", "employer_consent")}.get(
            sub["track"], ("void_notice", "reissue_form", "old_certificate"))
        gone = rng.choice([m for m in materials if m.type in wanted])
        materials.remove(gone)
        year.fault(sub, kind, field="materials", detail=gone.type)
    elif kind == "unknown_material_type":
        b = Builder(sub, rng, year.dpi)
        b.text(rng.choice(_UNKNOWN_TYPES), "其他补充材料", ["本人补充说明材料。"])
        m = b.items[0]
        m.material_id = f"M{len(materials) + 1:02d}"
        materials.append(m)
        year.fault(sub, kind, material_id=m.material_id, field="type", detail=m.type)
    elif kind == "duplicate_file":
        duplicate_file(year, sub, materials)
    elif kind in ("scan_missing", "access_missing", "form_missing"):
        drop(year, rng, sub, materials, kind)
    elif kind is not None and fp.KINDS[kind].stage == "file":
        target = fp.target_of(kind, materials)
        if target is not None:
            detail = fp.plant_file(kind, target, rng, year.dpi, year.low_dpi, head)
            year.fault(sub, kind, material_id=target.material_id, detail=detail)

def drop(year, rng: random.Random, sub: dict, materials: list[Material], kind: str) -> None:
    """Leave out a material another rule requires (and unlink it from its entry)."""
    if kind == "scan_missing":
        entry, field, detail = sub["education"][0], "education[0]", sub["education"][0]["kind"]
    elif kind == "form_missing":
        k = rng.randrange(len(sub["annual_assessments"]))
        entry, field = sub["annual_assessments"][k], "annual_assessments"
        detail = str(entry["year"])
    else:
        entry, field, detail = None, "materials", "access_qualification"
    if entry is not None:
        mid, entry["material_id"] = entry["material_id"], None
        gone = next(m for m in materials if m.material_id == mid)
    else:
        gone = next(m for m in materials if m.type == "access_qualification")
    materials.remove(gone)
    year.fault(sub, kind, field=field, detail=detail)

def duplicate_file(year, sub: dict, materials: list[Material]) -> None:
    """Upload the very file another applicant uploaded (both are listed)."""
    mine = fp.target_of("duplicate_file", materials)
    for state in reversed(year.apps):
        theirs = fp.target_of("duplicate_file", state["materials"])
        if state["kind"] is None and theirs is not None and mine is not None \
                and state["person"].id_number != sub["applicant"]["id_number"]:
            mine.data = theirs.content()
            state["kind"] = "duplicate_file(source)"
            year.fault(state["sub"], "duplicate_file", material_id=theirs.material_id,
                       detail=f"same file as {sub['submission_id']}/{mine.material_id}")
            year.fault(sub, "duplicate_file", material_id=mine.material_id,
                       detail=f"same file as {state['sub']['submission_id']}/{theirs.material_id}")
            return

def extras(year, sub: dict[str, Any]) -> None:
    sub["hall_extension"] = {"channel": "苏服办", "form_version": f"{year.year}.3", "trace": sub["submission_id"]}
    sub["applicant"]["nation"] = "汉族"
    year.extras.append({"submission_id": sub["submission_id"], "fields": ["hall_extension", "applicant.nation"]})

def invalid(year, rng: random.Random, sub: dict[str, Any]) -> None:
    """Break one required field's presence or type (the submission stays well-formed JSON)."""
    variant = rng.randrange(5)
    if variant == 0:
        del sub["declared"]["level"]
        field = "declared.level"
    elif variant == 1:
        sub["batch_year"] = f"{year.year}年"
        field = "batch_year"
    elif variant == 2:
        sub["education"] = {"学历": sub["education"][0]["level"]}
        field = "education"
    elif variant == 3:
        sub["materials"][0]["size"] = f"{sub['materials'][0]['size'] // 1024}KB"
        field = "materials[0].size"
    else:
        sub["applicant"]["phone"] = int(sub["applicant"]["phone"])
        field = "applicant.phone"
    year.fault(sub, "invalid_submission", field=field)
