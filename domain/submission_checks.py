"""Rules of rules.md "Identity and organisation checks", "Required materials" and
"Text and list limits" over one Submission (external-systems.md §1) as plain data.

The caller passes everything from outside the submission: today's date, the policy
numbers (`Policy`), the region table and the committees of config. Checks that need
other applications (one active application a year, the same file from two applicants)
are decided by the caller and only worded here.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from zhicheng.domain import lineage
from zhicheng.domain.findings import Catalogue, Finding
from zhicheng.domain.identity import id_number_problems, uscc_problems
from zhicheng.domain.privacy import mask_id_number
from zhicheng.domain.shanghai_time import local_date

REVIEW_TRACKS = ("初定", "评审")
ID_PROBLEM_NAMES = {"shape": "应为18位，前17位为数字，末位为数字或X", "region": "地址码不存在",
                    "birth_date": "出生日期无效", "check_char": "校验码错误"}
USCC_PROBLEM_NAMES = {"shape": "应为18位", "alphabet": "含有不允许的字符（I、O、S、V、Z等）",
                      "kind": "登记管理部门码或机构类别码无效", "region": "行政区划码应为6位数字",
                      "org_code": "组织机构代码校验位错误", "check_char": "校验码错误"}


@dataclass(frozen=True)
class Policy:
    """The numbers and lists of config the submission rules need."""

    material_types: Mapping[str, str]           # code -> Chinese name
    required: Mapping[str, Any]   # track -> .all [...] and .at_least (.count, .of) or None
    access_series: frozenset[str]
    summary_max: int
    summary_warn_below_初定: int
    summary_warn_blank_lines: int
    ce_max_entries: int
    assessment_years: Mapping[str, int]         # level -> years before the batch year
    periods: Mapping[int, tuple[dt.date, dt.date]]
    period_tracks: frozenset[str]               # tracks declared only in the declaration period

    @classmethod
    def from_config(cls, policy: Any, materials: Any) -> Policy:
        """From policy.yaml and materials.yaml (their models in zhicheng.config)."""
        ws = policy.work_summary
        return cls(dict(materials.material_types), dict(materials.required_materials),
                   frozenset(policy.access_qualification_series), ws.max_chars,
                   ws.warn_below_chars_初定, ws.warn_blank_lines,
                   policy.continuing_education.max_entries, dict(policy.assessment_period_years),
                   {int(y): (p.opens_on, p.closes_on) for y, p in policy.batches.items()},
                   frozenset(policy.declaration_period_tracks))


def application_findings(sub: Mapping[str, Any], *, policy: Policy, cat: Catalogue, today: dt.date,
                         regions: Any, committees: Mapping[str, Any],
                         declared_at: str | None = None) -> list[Finding]:
    """Every finding of the submission's own data and material list. `declared_at`: when
    the application was first submitted (its revision 1), for a resubmission."""
    return [*period_findings(sub, policy, cat, declared_at), *identity_findings(sub, cat, today),
            *employer_findings(sub, cat, regions), *committee_findings(sub, cat, regions, committees),
            *summary_findings(sub, policy, cat), *assessment_period_findings(sub, policy, cat),
            *material_list_findings(sub, policy, cat), *education_findings(sub, cat),
            *prior_certificate_findings(sub, cat), *lineage.history_findings(sub, cat, today=today)]


def _part(sub: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = sub.get(key)
    return value if isinstance(value, Mapping) else {}


def _items(sub: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = sub.get(key)
    return [x for x in value if isinstance(x, Mapping)] if isinstance(value, list) else []


def period_findings(sub: Mapping[str, Any], policy: Policy, cat: Catalogue,
                    declared_at: str | None = None) -> list[Finding]:
    """The declaration period binds only the tracks policy.yaml names (初定, 评审): 补办,
    换发 and 历史登记 are taken all year. A resubmission after a return is judged by when
    the application was first declared (`declared_at`), not by when it came back."""
    if sub.get("track") not in policy.period_tracks:
        return []
    year = sub.get("batch_year")
    period = policy.periods.get(year) if isinstance(year, int) else None
    try:
        day = local_date(dt.datetime.fromisoformat(str(declared_at or sub.get("submitted_at"))))
    except ValueError:
        return [cat.make("submission.outside_period", field="submitted_at", batch_year=year,
                         opens="?", closes="?")]
    if period is None:
        return [cat.make("submission.outside_period", field="batch_year", batch_year=year,
                         opens="未设定", closes="未设定")]
    if period[0] <= day <= period[1]:
        return []
    return [cat.make("submission.outside_period", field="submitted_at", batch_year=year,
                     opens=period[0].isoformat(), closes=period[1].isoformat())]


def identity_findings(sub: Mapping[str, Any], cat: Catalogue, today: dt.date) -> list[Finding]:
    a = _part(sub, "applicant")
    value = str(a.get("id_number") or "")
    problems = id_number_problems(value, gender=a.get("gender"), today=today)
    if problems == ["gender"]:
        return [cat.make("applicant.gender_mismatch", field="applicant.gender", value=a.get("gender"))]
    if problems:
        detail = "、".join(ID_PROBLEM_NAMES[p] for p in problems if p in ID_PROBLEM_NAMES)
        # the message goes to the applicant by the hall's SMS: the number is masked
        return [cat.make("applicant.id_number_invalid", field="applicant.id_number",
                         value=mask_id_number(value), detail=detail)]
    return []


def employer_findings(sub: Mapping[str, Any], cat: Catalogue, regions: Any) -> list[Finding]:
    e = _part(sub, "employer")
    out = []
    uscc = str(e.get("uscc") or "")
    problems = uscc_problems(uscc)
    if problems:
        out.append(cat.make("employer.uscc_invalid", field="employer.uscc", value=uscc,
                            detail="、".join(USCC_PROBLEM_NAMES.get(p, p) for p in problems)))
    region = str(e.get("region_code") or "")
    if not regions.is_known(region):
        out.append(cat.make("employer.region_unknown", field="employer.region_code", value=region))
    return out


def committee_findings(sub: Mapping[str, Any], cat: Catalogue, regions: Any,
                       committees: Mapping[str, Any]) -> list[Finding]:
    """The declared committee exists, is open in the batch year, takes the series,
    specialty and level, and covers the employer's region (a committee is an object
    with id, series, specialties, levels, covered_regions, open_years)."""
    d = _part(sub, "declared")
    cid = d.get("committee_id")
    field = "declared.committee_id"
    if cid is None:  # 评审 is decided by a committee; without one it could never move on
        return [cat.make("committee.missing", field=field)] if sub.get("track") == "评审" else []
    c = committees.get(cid)
    if c is None:
        return [cat.make("committee.unknown", field=field, value=cid)]
    if sub.get("batch_year") not in c.open_years:
        return [cat.make("committee.closed", field=field, value=cid)]
    if not (c.series == d.get("series") and d.get("specialty") in c.specialties and d.get("level") in c.levels):
        what = f"{d.get('series')}系列{d.get('specialty')}专业{d.get('level')}"
        return [cat.make("committee.not_covering", field=field, value=cid, detail=what)]
    region = str(_part(sub, "employer").get("region_code") or "")
    if regions.is_known(region) and not regions.covers(c.covered_regions, region):
        return [cat.make("committee.region_not_covered", field=field, value=cid,
                         detail=f"{regions.name(region)}（{region}）")]
    return []


def summary_findings(sub: Mapping[str, Any], policy: Policy, cat: Catalogue) -> list[Finding]:
    text = sub.get("work_summary") or ""
    text = text if isinstance(text, str) else str(text)
    out = []
    if len(text) > policy.summary_max:
        out.append(cat.make("summary.too_long", field="work_summary", value=len(text), limit=policy.summary_max))
    if sub.get("track") == "初定" and len(text) < policy.summary_warn_below_初定:
        out.append(cat.make("summary.too_short", field="work_summary", value=len(text),
                            limit=policy.summary_warn_below_初定))
    blank = sum(1 for line in text.split("\n") if not line.strip())
    if blank >= policy.summary_warn_blank_lines:
        out.append(cat.make("summary.many_blank_lines", field="work_summary", value=blank))
    return out


def assessment_years(sub: Mapping[str, Any], policy: Policy) -> list[int]:
    """The years of the assessment period (考核资历年度): those before the batch year."""
    year, level = sub.get("batch_year"), _part(sub, "declared").get("level", "")
    if sub.get("track") not in REVIEW_TRACKS or not isinstance(year, int) or level not in policy.assessment_years:
        return []
    return list(range(year - policy.assessment_years[level], year))


def assessment_period_findings(sub: Mapping[str, Any], policy: Policy, cat: Catalogue) -> list[Finding]:
    """Continuing education and annual assessments over the assessment period (初定, 评审)."""
    if sub.get("track") not in REVIEW_TRACKS:
        return []
    years = assessment_years(sub, policy)
    ce, aa = _items(sub, "continuing_education"), _items(sub, "annual_assessments")
    out = []
    if len(ce) > policy.ce_max_entries:
        out.append(cat.make("continuing_education.too_many", field="continuing_education",
                            value=len(ce), limit=policy.ce_max_entries))
    passed = {c.get("year") for c in ce if c.get("kind") == "公需科目" and c.get("passed") is True}
    out += [cat.make("continuing_education.missing_year", field="continuing_education", detail=y)
            for y in years if y not in passed]
    have = {x.get("year") for x in aa}
    out += [cat.make("annual_assessment.missing_year", field="annual_assessments", detail=y)
            for y in years if y not in have]
    if _part(sub, "employer").get("public_institution_staff") is True:
        ids = _material_ids(sub)
        out += [cat.make("annual_assessment.form_missing", field=f"annual_assessments[{i}]", detail=x.get("year"))
                for i, x in enumerate(aa) if x.get("material_id") not in ids]
    return out


def _material_ids(sub: Mapping[str, Any]) -> set[str | None]:
    return {m.get("material_id") for m in _items(sub, "materials")}


def material_list_findings(sub: Mapping[str, Any], policy: Policy, cat: Catalogue) -> list[Finding]:
    """Unknown material types; materials the track requires; the access qualification."""
    mats = _items(sub, "materials")
    out = [cat.make("material.unknown_type", field="type", material_id=m.get("material_id"),
                    file_name=m.get("file_name"), value=m.get("type"))
           for m in mats if m.get("type") not in policy.material_types]
    have = Counter(m.get("type") for m in mats)
    rule = policy.required.get(sub.get("track", ""))
    names = policy.material_types
    out += [cat.make("material.missing", field="materials", detail=names.get(t, t))
            for t in (rule.all if rule else ()) if not have[t]]
    some = rule.at_least if rule else None
    if some and sum(1 for t in some.of if have[t]) < some.count:
        listed = "、".join(names.get(t, t) for t in some.of)
        out.append(cat.make("material.missing", field="materials",
                            detail=f"{listed}中至少{some.count}项"))
    series = _part(sub, "declared").get("series")
    if sub.get("track") in REVIEW_TRACKS and series in policy.access_series and not have["access_qualification"]:
        out.append(cat.make("access_qualification.missing", field="materials", detail=series))
    return out


def education_label(entry: Mapping[str, Any]) -> str:
    return "".join(str(entry.get(k) or "") for k in ("school", "major", "level"))


def education_findings(sub: Mapping[str, Any], cat: Catalogue) -> list[Finding]:
    """初定 and 评审: at least one certificate number; a scan of every entry typed in (not
    fetched from 学信). The forms of 补办, 换发 and 历史登记 do not ask for education."""
    if sub.get("track") not in REVIEW_TRACKS:
        return []
    entries = _items(sub, "education")
    out = []
    if not any(e.get("certificate_no") for e in entries):
        label = "、".join(education_label(e) for e in entries) or "（未填写）"
        out.append(cat.make("education.no_certificate_no", field="education", detail=label))
    ids = _material_ids(sub)
    out += [cat.make("education.scan_missing", field=f"education[{i}]", detail=education_label(e))
            for i, e in enumerate(entries)
            if e.get("certificate_no") and e.get("chsi_fetched") is not True and e.get("material_id") not in ids]
    return out


def prior_certificate_findings(sub: Mapping[str, Any], cat: Catalogue,
                               known: Iterable[str] | None = None) -> list[Finding]:
    """补办/换发: a prior certificate number is given, and one in our format has a right
    check character (and, given `known`, is on record). Whether the province holds it is
    the look-up's answer (zhicheng.issuance.lifecycle, domain.lineage.lookup_findings)."""
    if sub.get("track") not in lineage.REISSUE_TRACKS:
        return []
    text = lineage.looked_up_number(sub) or ""
    if not text or lineage.number_is_ours_but_wrong(text) or (known is not None and text not in set(known)):
        return [cat.make("reissue.prior_certificate_unknown", field="prior_certificate_no", value=text)]
    return []


def duplicate_active_finding(sub: Mapping[str, Any], cat: Catalogue) -> Finding:
    return cat.make("application.duplicate_active", field="track", batch_year=sub.get("batch_year"),
                    track=sub.get("track"))


def duplicate_file_finding(material: Mapping[str, Any], cat: Catalogue) -> Finding:
    return cat.make("material.duplicate_across_applicants", material_id=material.get("material_id"),
                    file_name=material.get("file_name"))
