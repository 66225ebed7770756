"""Submissions of the certificate lifecycle (补办, 换发, 历史登记) made by hand, with
their materials built by the generator's own builders, for the hall stand-in."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from pathlib import Path
from typing import Any

from zhicheng.domain.certificate_numbers import make_number
from zhicheng.domain.identity import make_id_number, make_uscc
from zhicheng.standins.materials import build_materials

NANJING = "南京市人力资源和社会保障局"


def person(i: int) -> dict[str, str]:
    gender = "男" if i % 2 else "女"
    return {"name": ["赵一鸣", "钱二丽", "孙三立", "李四海"][i % 4], "gender": gender,
            "id_number": make_id_number("320102", dt.date(1975, 3, 1 + i), i, gender),
            "phone": f"1390000{i:04d}", "email": f"p{i}@example.cn"}


def submission(sid: str, track: str, who: dict[str, str], *, submitted_at: str,
               prior: str | None = None, historical: dict | None = None,
               prior_obtained_by: str | None = None) -> tuple[dict[str, Any], dict]:
    """One Submission of external-systems.md §1 (with the lifecycle's extension fields)
    and its files (material_id -> (bytes, content type))."""
    sub: dict[str, Any] = {
        "submission_id": sid, "revision": 1, "track": track, "batch_year": 2026,
        "submitted_at": submitted_at, "applicant": who,
        "employer": {"name": "南京样例电力工程有限公司", "uscc": make_uscc("91", "320102", "13572468"),
                     "nature": "企业单位", "region_code": "320102", "supervising_dept": None,
                     "public_institution_staff": False},
        "declared": {"level": "中级", "series": "工程", "specialty": "电气工程",
                     "qualification_name": "工程师", "committee_id": None, "reporting_level": "市级",
                     "exceptional": False},
        "education": [], "work_history": [], "continuing_education": [], "annual_assessments": [],
        "achievements": [], "papers": [], "work_summary": "", "materials": [],
        "prior_certificate_no": prior}
    if historical is not None:
        sub["historical_certificate"] = historical
    if prior_obtained_by is not None:
        sub["prior_obtained_by"] = prior_obtained_by
    ctx = {"report": None, "access_series": set(), "access_name": "", "summary_excerpt": "",
           "history_kinds": ["history_form", "old_certificate"]}
    materials = build_materials(sub, ctx, random.Random(sid), 300)
    sub["materials"] = [{"material_id": m.material_id, "type": m.type, "file_name": m.file_name,
                         "size": len(m.data), "sha256": hashlib.sha256(m.data).hexdigest()}
                        for m in materials]
    return sub, {m.material_id: (m.data, m.content_type) for m in materials}


def former_platform_record(who: dict[str, str]) -> dict[str, Any]:
    """A certificate of the former platform that the province holds (a 2016 初定...
    here a 评审 of 2016, version 1), for a 补办 to replace."""
    return {"certificate_no": make_number("320100", 2016, 3, 812), "version": 1,
            "holder_name": who["name"], "holder_id_number": who["id_number"],
            "qualification_name": "工程师", "level": "中级", "series": "工程", "specialty": "电气工程",
            "obtained_by": "评审", "committee_name": "南京市工程系列电气专业中级职称评审委员会",
            "approved_on": "2016-12-03", "issued_on": "2016-12-20", "issuer": NANJING,
            "issuer_region_code": "320100", "filed_with_province": True, "status": "valid",
            "replaces": None, "document_sha256": None, "batch_root": None}


def province_year(root: Path, records: list[dict[str, Any]]) -> Path:
    """A year directory holding only what the province already has (no submissions yet:
    the test hands them to the hall as applicants submit them)."""
    (root / "province").mkdir(parents=True, exist_ok=True)
    (root / "submissions.jsonl").write_text("", encoding="utf-8")
    (root / "province" / "certificates.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return root
