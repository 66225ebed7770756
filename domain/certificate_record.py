"""The shape of a CertificateRecord (external-systems.md §3), checked field by field.

`record_problem` names the first fault as a machine-readable code
("missing_field:<name>" or "invalid_field:<name>"), or None for a well-formed record.
The province stand-in rejects such records; a sender may check before sending.
Unknown extra fields are allowed (they are kept).
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from zhicheng.domain.identity import id_number_problems

LEVELS = ("员级", "助理级", "中级", "副高级", "正高级")
OBTAINED_BY = ("评审", "初定", "认定", "历史登记")
STATUSES = ("valid", "revoked")
_HEX = re.compile(r"^[0-9a-f]+$")
_REGION = re.compile(r"^\d{6}$")

REQUIRED_TEXT = ("certificate_no", "holder_name", "holder_id_number", "qualification_name", "level",
                 "series", "specialty", "obtained_by", "approved_on", "issued_on", "issuer",
                 "issuer_region_code", "status")
NULLABLE = ("committee_name", "replaces", "document_sha256", "batch_root")


def _date(value: str) -> bool:
    try:
        return dt.date.fromisoformat(value).isoformat() == value
    except ValueError:
        return False


def _checks(rec: dict) -> list[tuple[str, bool]]:
    """(field, is_valid) in the order reported; every value here is already of its type."""
    return [
        ("version", rec["version"] >= 1),
        ("holder_id_number", not id_number_problems(rec["holder_id_number"])),
        ("level", rec["level"] in LEVELS),
        ("obtained_by", rec["obtained_by"] in OBTAINED_BY),
        ("approved_on", _date(rec["approved_on"])),
        ("issued_on", _date(rec["issued_on"])),
        ("issuer_region_code", bool(_REGION.match(rec["issuer_region_code"]))),
        ("status", rec["status"] in STATUSES),
        ("document_sha256", rec["document_sha256"] is None
         or (len(rec["document_sha256"]) == 64 and bool(_HEX.match(rec["document_sha256"])))),
        ("batch_root", rec["batch_root"] is None or bool(_HEX.match(rec["batch_root"]))),
    ]


def record_problem(rec: Any) -> str | None:
    if not isinstance(rec, dict):
        return "invalid_record"
    for name in (*REQUIRED_TEXT, "version", "filed_with_province", *NULLABLE):
        if name not in rec:
            return f"missing_field:{name}"
    for name in REQUIRED_TEXT:
        if not isinstance(rec[name], str) or not rec[name].strip():
            return f"invalid_field:{name}"
    if not isinstance(rec["version"], int) or isinstance(rec["version"], bool):
        return "invalid_field:version"
    if not isinstance(rec["filed_with_province"], bool):
        return "invalid_field:filed_with_province"
    for name in NULLABLE:
        if rec[name] is not None and not isinstance(rec[name], str):
            return f"invalid_field:{name}"
    for name, ok in _checks(rec):
        if not ok:
            return f"invalid_field:{name}"
    return None
