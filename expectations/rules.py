"""Checks that need Python (check characters, the file store), applied row by row to
what a check's query streams in chunks. Each rule is built once per run from its
JSON arguments and returns, for one row, what is wrong (Chinese) or None.

The rules themselves are zhicheng.domain's: the registry only adapts a row to them.
"""
from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping
from typing import Any

from zhicheng.domain.certificate_numbers import number_problem
from zhicheng.domain.lineage import number_is_ours_but_wrong
from zhicheng.domain.identity import id_number_problems, uscc_problems

RowCheck = Callable[[Mapping[str, Any]], "str | None"]

_ID_REASONS = {"shape": "格式不是18位", "region": "地址码省份未知", "birth_date": "出生日期无效",
               "check_char": "校验码错误", "gender": "性别与第17位不符"}
_USCC_REASONS = {"shape": "长度不是18位", "alphabet": "含有不允许的字符", "kind": "登记管理部门或机构类别码无效",
                 "region": "行政区划码不是数字", "org_code": "组织机构代码校验码错误",
                 "check_char": "校验码错误"}


def id_number(*, today: str | None = None) -> RowCheck:
    """Columns id_number (and gender when selected): GB 11643 with its check character."""
    day = dt.date.fromisoformat(today) if today else None

    def check(row: Mapping[str, Any]) -> str | None:
        problems = id_number_problems(row["id_number"] or "", gender=row.get("gender"), today=day)
        return "身份证号" + "、".join(_ID_REASONS.get(p, p) for p in problems) if problems else None
    return check


def uscc() -> RowCheck:
    """Column uscc: GB 32100 with its check character."""
    def check(row: Mapping[str, Any]) -> str | None:
        problems = uscc_problems(row["uscc"] or "")
        return "统一社会信用代码" + "、".join(_USCC_REASONS.get(p, p) for p in problems) if problems else None
    return check


def certificate_number(*, levels: Mapping[str, int]) -> RowCheck:
    """Column certificate_no (MOD 11-2); when `allocated` is true, its parts must also be
    the certificate's issuer, issue year and level digit. A number not allocated here (a
    历史登记's, a former platform's) is kept as it was, in a legacy format too: only one
    in our 18-character format is held to its check character."""
    def check(row: Mapping[str, Any]) -> str | None:
        text = (row["certificate_no"] or "").strip().upper()
        if not row.get("allocated"):
            return number_problem(text) if not text or number_is_ours_but_wrong(text) else None
        problem = number_problem(text)
        if problem:
            return problem
        number = text  # well formed: the parts by position
        issued = row["issued_on"]
        year = issued.year if isinstance(issued, dt.date) else int(str(issued)[:4])
        wrong = [label for label, ok in (
            ("发证机关地区码", number[:6] == row["issuer_region_code"]),
            ("年度", int(number[6:10]) == year),
            ("级别码", int(number[10]) == levels.get(row["level"]))) if not ok]
        return f"证书编号的{'、'.join(wrong)}与证书不符" if wrong else None
    return check


def file_exists(*, home: str) -> RowCheck:
    """Column path: a file relative to the workspace (ZHICHENG_HOME) that must exist."""
    def check(row: Mapping[str, Any]) -> str | None:
        path = row["path"]
        if not path:
            return "没有存储路径"
        full = path if os.path.isabs(path) else os.path.join(home, path)
        return None if os.path.isfile(full) else f"文件不存在：{path}"
    return check


RULES: dict[str, Callable[..., RowCheck]] = {
    "id_number": id_number, "uscc": uscc, "certificate_number": certificate_number,
    "file_exists": file_exists,
}


def build(name: str, args: Mapping[str, Any] | None = None) -> RowCheck:
    if name not in RULES:
        raise KeyError(f"unknown quality rule {name!r}; known: {', '.join(sorted(RULES))}")
    return RULES[name](**dict(args or {}))
