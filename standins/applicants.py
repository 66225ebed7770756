"""Applicants, employers and the data of one application (everything but the files).

Every choice is consistent with config: a 评审 application names a committee open in the
batch year that covers its series, specialty, level and employer region; the reporting
level fits the committee's tier; birth dates fit graduation and years of service; the
assessment period (考核资历年度) comes from policy.yaml.
"""
from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from zhicheng.domain.checksums import USCC_ALPHABET, mod11_2_check_char
from zhicheng.domain.identity import make_id_number, make_uscc
from zhicheng.standins import names, vocab

LEVELS = ("员级", "助理级", "中级", "副高级", "正高级")
# years of service before the batch year, by level (a plausible span, not a rule)
SERVICE_YEARS = {"员级": (1, 3), "助理级": (2, 6), "中级": (5, 11), "副高级": (10, 20), "正高级": (16, 30)}
# education of a level: (学历 level, 学位 level or None, age at graduation, years of study)
EDUCATION: dict[str, list[tuple[str, str | None, int, int]]] = {
    "员级": [("专科", None, 21, 3)],
    "助理级": [("专科", None, 21, 3), ("本科", "学士", 22, 4)],
    "中级": [("本科", "学士", 22, 4), ("硕士研究生", "硕士", 25, 3)],
    "副高级": [("本科", "学士", 22, 4), ("硕士研究生", "硕士", 25, 3), ("博士研究生", "博士", 29, 4)],
    "正高级": [("本科", "学士", 22, 4), ("硕士研究生", "硕士", 25, 3), ("博士研究生", "博士", 29, 4)],
}
_LEVEL_CODE = {"专科": "06", "本科": "05", "硕士研究生": "02", "博士研究生": "01"}
_DEGREE_CODE = {"学士": "4", "硕士": "3", "博士": "2"}
OUTSIDE_PROVINCE_IDS = ("340104", "370102", "330106", "410105", "320100")  # birthplaces elsewhere


@dataclass
class Employer:
    name: str
    uscc: str
    nature: str
    region_code: str
    supervising_dept: str | None

    def as_dict(self, staff: bool) -> dict[str, Any]:
        return {"name": self.name, "uscc": self.uscc, "nature": self.nature, "region_code": self.region_code,
                "supervising_dept": self.supervising_dept, "public_institution_staff": staff}


@dataclass
class Person:
    name: str
    gender: str
    id_number: str
    birth: dt.date
    phone: str
    email: str
    pinyin: str


@dataclass
class Plan:
    """What one application is about, decided before its data and files are made."""
    track: str
    level: str
    series: str
    specialty: str
    region_code: str
    reporting_level: str
    committee_id: str | None = None
    staff: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def place_name(regions: Any, code: str) -> str:
    """How an employer's name starts: 南京市, 南京市鼓楼区, 泰兴市, 江苏省."""
    region = regions.get(code)
    if region is None:
        return "江苏省"
    if region.is_province or region.is_city:
        return region.name
    city = regions.name(region.city_code) if regions.get(region.city_code) else ""
    return city + region.name if region.name.endswith("区") else region.name


def make_employer(rng: random.Random, regions: Any, series: str, region: str) -> Employer:
    kinds = vocab.EMPLOYER_KINDS.get(series) or vocab.EMPLOYER_KINDS["工程"]
    pattern, nature, kind2, dept = rng.choice(kinds)
    place = place_name(regions, region)
    name = pattern.format(city=place, word=rng.choice(vocab.FIRM_WORDS), num=rng.choice("一二三四五六"))
    if kind2 == "91" and rng.random() < 0.6:  # companies registered since 2015: MA...
        body = "MA" + "".join(rng.choice(USCC_ALPHABET) for _ in range(6))
    else:
        body = "".join(rng.choice("0123456789") for _ in range(8))
    return Employer(name, make_uscc(kind2, region, body), nature, region,
                    dept.format(city=place) if dept else None)


def make_person(rng: random.Random, *, grad_year: int, age_at_graduation: int, birth_region: str,
                serial: int) -> Person:
    gender = rng.choice(("男", "女"))
    name, pinyin = names.person_name(rng, gender)
    birth = dt.date(grad_year - age_at_graduation - rng.choice((0, 0, 0, 1)), rng.randint(1, 12), rng.randint(1, 28))
    id_number = make_id_number(birth_region, birth, serial, gender)
    return Person(name, gender, id_number, birth, names.phone(rng), names.email(rng, pinyin, serial), pinyin)


def education_entries(rng: random.Random, person: Person, plan: Plan, edu_choice: tuple,
                      grad_year: int) -> list[dict[str, Any]]:
    """The declared education (学历 and, when it carries one, 学位), with 学信-style records."""
    level, degree, _, years = edu_choice
    pool: Sequence[tuple[str, str]] = vocab.COLLEGES if level == "专科" else vocab.UNIVERSITIES
    medical = [s for s in pool if "医" in s[0] or "药" in s[0]]
    if level != "专科":
        pool = medical if plan.series == "卫生技术" else [s for s in pool if s not in medical]
    school, code = rng.choice(pool)
    major = rng.choice(vocab.MAJORS.get(plan.specialty, ["工学"]))
    grad = dt.date(grad_year, 6, rng.choice((20, 25, 28, 30)))
    seq = rng.randrange(1, 999999)
    out = [{"kind": "学历", "level": level, "school": school, "major": major,
            "graduation_date": grad.isoformat(),
            "certificate_no": f"{code}1{grad_year}{_LEVEL_CODE[level]}{seq:06d}",
            "chsi_fetched": False, "material_id": None,
            "_enrollment": dt.date(grad_year - years, 9, 1).isoformat()}]
    out[0]["_cert"] = out[0]["certificate_no"]  # what 学信 holds, whatever the applicant types
    if degree:
        out.append({"kind": "学位", "level": degree, "school": school, "major": major,
                    "graduation_date": grad.isoformat(),
                    "certificate_no": f"{code}{_DEGREE_CODE[degree]}{grad_year}{seq:06d}",
                    "chsi_fetched": False, "material_id": None, "_enrollment": None})
        out[1]["_cert"] = out[1]["certificate_no"]
    return out


def chsi_record(entry: dict[str, Any], record_id: str) -> dict[str, Any]:
    """The record 学信 holds for a declared education entry (external-systems.md §2)."""
    return {"record_id": record_id, "kind": entry["kind"], "level": entry["level"], "school": entry["school"],
            "major": entry["major"], "study_form": "普通全日制", "enrollment_date": entry["_enrollment"],
            "graduation_date": entry["graduation_date"], "certificate_no": entry["_cert"]}


def work_history(rng: random.Random, grad: dt.date, employer: Employer, level: str,
                 until: dt.date) -> list[dict[str, Any]]:
    """One to three jobs from graduation until now; the last is the current employer, open."""
    start = dt.date(grad.year, 7, 1 + rng.randrange(20))
    span = (until - start).days - 400  # the current job has lasted more than a year
    moves = rng.choice((0, 0, 1, 1, 2)) if span > 3 * 365 else 0
    cuts = sorted(rng.randrange(200, span) for _ in range(moves))
    jobs: list[dict[str, Any]] = []
    for cut in cuts:
        end = dt.date.fromordinal(start.toordinal() + max(150, cut - (start - grad).days))
        end = min(end, until - dt.timedelta(days=420))
        if end <= start:
            continue
        jobs.append({"start": start.isoformat(), "end": end.isoformat(),
                     "employer": f"{rng.choice(vocab.FIRM_WORDS)}{rng.choice(('科技', '工程', '咨询'))}有限公司",
                     "role": "技术员"})
        start = end + dt.timedelta(days=1 + rng.randrange(30))
    jobs.append({"start": start.isoformat(), "end": None, "employer": employer.name, "role": vocab.ROLES[level]})
    return jobs


def assessment_years(policy: Any, level: str, batch_year: int) -> list[int]:
    n = int(policy.assessment_period_years[level])
    return list(range(batch_year - n, batch_year))


def continuing_education(rng: random.Random, years: list[int], specialty: str, max_entries: int) -> list[dict]:
    """One passed 公需科目 a year, then 专业科目 while there is room."""
    out = [{"year": y, "course": rng.choice(vocab.PUBLIC_COURSES), "kind": "公需科目",
            "hours": rng.choice((24, 30, 32)), "passed": True, "material_id": None} for y in years]
    for _ in range(rng.randint(0, max(0, max_entries - len(years)))):
        out.append({"year": rng.choice(years), "course": rng.choice(vocab.SUBJECT_COURSES).format(sp=specialty),
                    "kind": "专业科目", "hours": rng.choice((16, 24, 40)), "passed": True, "material_id": None})
    return sorted(out, key=lambda e: (e["year"], e["kind"]))


def certificate_number(region: str, year: int, level: str, serial: int) -> str:
    body = f"{region}{year}{LEVELS.index(level) + 1}{serial:06d}"
    return body + mod11_2_check_char(body)
