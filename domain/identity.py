"""Resident ID numbers (GB 11643) and unified social credit codes (GB 32100).

Pure checks that return the reasons a value is wrong (empty when it is right), so the
caller turns each reason into a finding with its own code.
"""
from __future__ import annotations

import datetime as dt
import re

from zhicheng.domain.checksums import (
    USCC_ALPHABET, mod11_2_check_char, org_code_check_char, uscc_check_char,
)

_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")
# GB 11643 province prefixes (first two digits of the address code).
PROVINCE_PREFIXES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82",
})
# GB 32100 position 1 (registering authority) and position 2 (kind of organisation).
_USCC_KINDS = {
    "1": "1239", "2": "19", "3": "123459", "4": "19", "5": "1239", "6": "129",
    "7": "129", "8": "19", "9": "123", "A": "19", "N": "12349", "Y": "1",
}


def id_number_problems(id_number: str, *, gender: str | None = None,
                       today: dt.date | None = None) -> list[str]:
    """Reasons a resident ID number is not valid: shape, region, birth date, check, gender."""
    value = (id_number or "").strip().upper()
    if not _ID_SHAPE.match(value):
        return ["shape"]
    problems = []
    if value[:2] not in PROVINCE_PREFIXES:
        problems.append("region")
    birth = birth_date(value)
    if birth is None or birth.year < 1900 or (today is not None and birth > today):
        problems.append("birth_date")
    if mod11_2_check_char(value[:17]) != value[17]:
        problems.append("check_char")
    if gender is not None and gender in ("男", "女") and gender_of(value) != gender:
        problems.append("gender")
    return problems


def birth_date(id_number: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(id_number[6:14], "%Y%m%d").date()
    except ValueError:
        return None


def gender_of(id_number: str) -> str:
    """GB 11643: the 17th digit is odd for men and even for women."""
    return "男" if int(id_number[16]) % 2 else "女"


def make_id_number(region: str, birth: dt.date, sequence: int, gender: str) -> str:
    """A well-formed ID number: region code, birth date, 3-digit order code, check char."""
    order = sequence % 500 * 2 + (1 if gender == "男" else 0)
    body = f"{region}{birth:%Y%m%d}{order:03d}"
    return body + mod11_2_check_char(body)


def uscc_problems(uscc: str) -> list[str]:
    """Reasons a USCC is not valid: shape, alphabet, authority/kind, org code, check."""
    value = (uscc or "").strip().upper()
    if len(value) != 18:
        return ["shape"]
    if any(ch not in USCC_ALPHABET for ch in value):
        return ["alphabet"]
    problems = []
    if value[1] not in _USCC_KINDS.get(value[0], ""):
        problems.append("kind")
    if not value[2:8].isdigit():
        problems.append("region")
    if org_code_check_char(value[8:16]) != value[16]:
        problems.append("org_code")
    if uscc_check_char(value[:17]) != value[17]:
        problems.append("check_char")
    return problems


def make_uscc(authority_kind: str, region: str, org_body8: str) -> str:
    """A well-formed USCC from its authority and kind (e.g. "91"), region and org body."""
    body = f"{authority_kind}{region}{org_body8}{org_code_check_char(org_body8)}"
    return body + uscc_check_char(body)
