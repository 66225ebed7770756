"""The hall's Submission contract (external-systems.md §1), checked field by field.

`contract_problems` lists what makes a submission invalid: a required field missing or
of the wrong type, an unknown value where the contract fixes the set. Unknown extra
fields are never a problem (the contract says: keep them). An unknown material type is
a finding on that material (validation's), not a reason to call the submission invalid.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from zhicheng.domain.privacy import PERSONAL_FIELDS, mask_field

TRACKS = ("初定", "评审", "补办", "换发", "历史登记")
LEVELS = ("员级", "助理级", "中级", "副高级", "正高级")
REPORTING = ("省直", "市级", "县区级")

Check = Callable[[Any], bool]


def _str(v: Any) -> bool:
    return isinstance(v, str)


def _opt_str(v: Any) -> bool:
    return v is None or isinstance(v, str)


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _bool(v: Any) -> bool:
    return isinstance(v, bool)


def _date(v: Any) -> bool:
    try:
        return isinstance(v, str) and bool(dt.date.fromisoformat(v))
    except ValueError:
        return False


def _opt_date(v: Any) -> bool:
    return v is None or _date(v)


def _datetime(v: Any) -> bool:
    try:
        return isinstance(v, str) and dt.datetime.fromisoformat(v).tzinfo is not None
    except ValueError:
        return False


def _one_of(*values: str) -> Check:
    return lambda v: v in values


APPLICANT = {"name": _str, "id_number": _str, "gender": _one_of("男", "女"), "phone": _str}
EMPLOYER = {"name": _str, "uscc": _str, "nature": _str, "region_code": _str,
            "supervising_dept": _opt_str, "public_institution_staff": _bool}
DECLARED = {"level": _one_of(*LEVELS), "series": _str, "specialty": _str, "qualification_name": _str,
            "committee_id": _opt_str, "reporting_level": _one_of(*REPORTING), "exceptional": _bool}
LISTS: dict[str, dict[str, Check]] = {
    "education": {"kind": _one_of("学历", "学位"), "level": _str, "school": _str, "major": _str,
                  "graduation_date": _date, "certificate_no": _opt_str, "chsi_fetched": _bool,
                  "material_id": _opt_str},
    "work_history": {"start": _date, "end": _opt_date, "employer": _str, "role": _str},
    "continuing_education": {"year": _int, "course": _str, "kind": _str, "hours": _num, "passed": _bool,
                             "material_id": _opt_str},
    "annual_assessments": {"year": _int, "result": _str, "material_id": _opt_str},
    "achievements": {"title": _str, "role": _str, "rank": _str, "material_id": _opt_str},
    "papers": {"title": _str, "venue": _str, "published": _date, "material_id": _opt_str},
    "materials": {"material_id": _str, "type": _str, "file_name": _str, "size": _int, "sha256": _str},
}
TOP: dict[str, Check] = {"submission_id": lambda v: isinstance(v, str) and bool(v.strip()),
       "revision": lambda v: _int(v) and v >= 1, "track": _one_of(*TRACKS), "batch_year": _int,
       "submitted_at": _datetime, "work_summary": _str, "prior_certificate_no": _opt_str}
OBJECTS: dict[str, Mapping[str, Check]] = {"applicant": APPLICANT, "employer": EMPLOYER, "declared": DECLARED}


def _fields(obj: Mapping[str, Any], spec: Mapping[str, Check], where: str) -> list[str]:
    out = []
    for name, ok in spec.items():
        path = f"{where}{name}"
        if name not in obj:
            out.append(f"{path}: missing")
        elif not ok(obj[name]):
            out.append(f"{path}: {_shown(obj[name], name)} is not allowed here")
    return out


def _shown(v: Any, name: str) -> str:
    if name in PERSONAL_FIELDS and v is not None:  # the problem goes back to the applicant
        masked = f"“{mask_field(name, v)}”"
        return masked if isinstance(v, str) else f"{type(v).__name__} {masked}"
    text = repr(v) if not isinstance(v, str) else f"“{v}”"
    return text if len(text) <= 40 else text[:37] + "..."


def contract_problems(sub: Any) -> list[str]:
    """Every way `sub` breaks the Submission contract, as "field.path: what"; [] when sound."""
    if not isinstance(sub, Mapping):
        return [f"(submission): {type(sub).__name__} instead of an object"]
    out = _fields(sub, TOP, "")
    for name, spec in OBJECTS.items():
        obj = sub.get(name)
        if not isinstance(obj, Mapping):
            out.append(f"{name}: {'missing' if obj is None else 'not an object'}")
        else:
            out += _fields(obj, spec, f"{name}.")
    for name, spec in LISTS.items():
        items = sub.get(name)
        if not isinstance(items, list):
            out.append(f"{name}: {'missing' if items is None else 'not a list'}")
            continue
        for i, item in enumerate(items):
            out += (_fields(item, spec, f"{name}[{i}].") if isinstance(item, Mapping)
                    else [f"{name}[{i}]: not an object"])
    return out


def key_of(sub: Any) -> tuple[str, int] | None:
    """(submission_id, revision) when the hall's own keys are sound, else None."""
    if isinstance(sub, Mapping) and TOP["submission_id"](sub.get("submission_id")) \
            and TOP["revision"](sub.get("revision")):
        return str(sub["submission_id"]), int(sub["revision"])
    return None
