"""Matching declared education to 学信 (CHSI) records, and reading 学信 report codes.

Pure rules over plain dicts shaped as external-systems.md says (Submission
`education[]` entries, CHSI records). The certificate number decides first; school,
level, major and graduation date are evidence. Outcomes per declared entry:

- verified:    a record agrees on every declared field
- mismatched:  a record is clearly the same education but some fields differ (named)
- not_held:    学信 answered and holds nothing that matches (a definite answer)
- unavailable: 学信 did not answer (decided by the caller, never by these rules)
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

VERIFIED, MISMATCHED, NOT_HELD, UNAVAILABLE = "verified", "mismatched", "not_held", "unavailable"
EVIDENCE = ("school", "level", "major", "graduation_date")
FIELD_NAMES = {"school": "学校", "level": "层次", "major": "专业", "graduation_date": "毕业日期",
               "certificate_no": "证书编号"}
FILLED_FROM_CHSI = ("level", "school", "major", "graduation_date", "certificate_no")
ONLINE_CODE = re.compile(r"^[A-Z0-9]{16}$")
_LABELLED = re.compile(r"在线验证码\s*[:：]?\s*((?:[A-Z0-9][\s\-]?){16})")
_BARE = re.compile(r"(?<![A-Z0-9])[A-Z0-9]{16}(?![A-Z0-9])")
_FULL_WIDTH = str.maketrans("（）　", "() ")


@dataclass(frozen=True)
class EntryOutcome:
    outcome: str
    fields: tuple[str, ...] = ()           # the declared fields that differ (mismatched)
    record: dict[str, Any] | None = None   # the 学信 record it was matched to
    filled: dict[str, Any] = field(default_factory=dict)  # values taken from 学信 (chsi_fetched)


def normalise(value: Any) -> str:
    """Compare text as people mean it: no spaces, half-width brackets, upper case."""
    return re.sub(r"\s+", "", str(value or "").translate(_FULL_WIDTH)).upper()


def differing(declared: dict, record: dict, names: tuple[str, ...] = EVIDENCE) -> tuple[str, ...]:
    """The fields (of those declared) on which the entry and the record disagree."""
    return tuple(n for n in names if declared.get(n) and normalise(declared[n]) != normalise(record.get(n)))


def match_entry(declared: dict, records: list[dict]) -> EntryOutcome:
    """One declared entry against everything 学信 holds for the person."""
    same_kind = [r for r in records if normalise(r.get("kind")) == normalise(declared.get("kind"))]
    if declared.get("chsi_fetched"):
        return _fill_from_chsi(declared, same_kind)
    cert = normalise(declared.get("certificate_no"))
    if cert:
        by_cert = [r for r in same_kind if normalise(r.get("certificate_no")) == cert]
        if by_cert:
            return _judge(declared, by_cert[0], ())
    best = _best_by_evidence(declared, same_kind)
    if best is None:
        return EntryOutcome(NOT_HELD)
    return _judge(declared, best, ("certificate_no",) if cert else ())


def _judge(declared: dict, record: dict, extra: tuple[str, ...]) -> EntryOutcome:
    fields = extra + differing(declared, record)
    return EntryOutcome(MISMATCHED if fields else VERIFIED, fields, record)


def _best_by_evidence(declared: dict, candidates: list[dict]) -> dict | None:
    """The record sharing most evidence, if it shares at least the school or the date and
    two fields in all: fewer is a different education, not a mismatched one."""
    def score(r: dict) -> int:
        return sum(1 for n in EVIDENCE if declared.get(n) and normalise(declared[n]) == normalise(r.get(n)))

    def anchored(r: dict) -> bool:
        return any(declared.get(n) and normalise(declared[n]) == normalise(r.get(n))
                   for n in ("school", "graduation_date"))
    ranked = sorted((r for r in candidates if anchored(r) and score(r) >= 2), key=score, reverse=True)
    return ranked[0] if ranked else None


def _fill_from_chsi(declared: dict, same_kind: list[dict]) -> EntryOutcome:
    """An entry the applicant asked to fetch from 学信: take the record of its level
    (or its only record of that kind)."""
    level = normalise(declared.get("level"))
    pick = [r for r in same_kind if normalise(r.get("level")) == level] if level else []
    if not pick and len(same_kind) == 1 and not level:
        pick = same_kind
    if not pick:
        return EntryOutcome(NOT_HELD)
    record = max(pick, key=lambda r: str(r.get("graduation_date") or ""))
    return EntryOutcome(VERIFIED, (), record, {n: record.get(n) for n in FILLED_FROM_CHSI})


def entry_label(entry: dict) -> str:
    """How an entry is named to the applicant: 学历（本科）南京大学 电气工程."""
    return f"{entry.get('kind') or ''}（{entry.get('level') or ''}）{entry.get('school') or ''} " \
           f"{entry.get('major') or ''}".strip()


def extract_online_code(text: str) -> str | None:
    """The 16-character 在线验证码 of a 学信 备案表 from its PDF text, or None.

    The label is preferred; PDF text may split the code with spaces or hyphens. Without a
    label, a lone 16-character token of capitals and digits having both is taken.
    """
    upper = (text or "").upper()
    m = _LABELLED.search(text or "") or _LABELLED.search(upper)
    if m:
        code = re.sub(r"[\s\-]", "", m.group(1))
        if ONLINE_CODE.match(code):
            return code
    bare = [t for t in _BARE.findall(upper) if re.search(r"[A-Z]", t) and re.search(r"\d", t)]
    return bare[0] if len(set(bare)) == 1 else None


def check_report(report: dict, *, id_number: str, name: str, entries: list[dict]) -> list[tuple[str, dict]]:
    """Problems of a valid 学信 report: (finding code, params); [] when it is in order."""
    code = report.get("online_code")
    if normalise(report.get("id_number")) != normalise(id_number) or normalise(report.get("name")) != normalise(name):
        return [("chsi.report_other_person", {"value": code})]
    record = report.get("record") or {}
    same = [e for e in entries if normalise(e.get("kind")) == normalise(record.get("kind"))]
    outcomes = [match_entry({**e, "chsi_fetched": False}, [record]) for e in same]
    if any(o.outcome == VERIFIED for o in outcomes):
        return []
    fields = next((o.fields for o in outcomes if o.outcome == MISMATCHED), ())
    detail = "、".join(FIELD_NAMES[f] for f in fields) if fields else f"未填写{entry_label(record)}"
    return [("chsi.report_mismatch", {"value": code, "detail": detail})]


_VALID_UNTIL = re.compile(r"有效期至\s*[:：]?\s*(\d{4})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})")


def extract_valid_until(text: str) -> str | None:
    """The 有效期至 date printed on a 学信 report (YYYY-MM-DD), or None."""
    m = _VALID_UNTIL.search(text or "")
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}" if m else None
