"""The lineage of a title's certificates: 历史登记, 补办 and 换发 over plain data.

A title (a person's qualification) has one certificate that is valid at a time. A
历史登记 registers the historic certificate as it was (number, dates, issuer,
committee, how it was obtained); a 补办 or 换发 issues a new version that replaces the
valid one and keeps its origin: how the title was obtained, its approval date and
committee never change, however many times it is re-issued (seed 000 chapters 4-5).

Certificates are CertificateRecords (external-systems.md §3) as dicts; dates may be
`datetime.date` or ISO strings. The caller looks the prior certificate up (our registry,
then the province by number) and passes what it found.
"""
from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from zhicheng.domain.certificate_numbers import number_problem
from zhicheng.domain.findings import Catalogue, Finding

REISSUE_TRACKS = ("补办", "换发")
HISTORY_TRACK = "历史登记"
LOOKUP_TRACKS = (*REISSUE_TRACKS, HISTORY_TRACK)
ORIGINS = ("评审", "初定")
# the certificate number column holds 18 characters (our format; most legacy ones fit)
MAX_NUMBER_LENGTH = 18
# what a re-issue copies from the certificate it replaces: the title and its origin
ORIGIN_FIELDS = ("qualification_name", "level", "series", "specialty", "obtained_by",
                 "committee_name", "approved_on")
HISTORY_FIELDS = {"certificate_no": "证书编号", "obtained_by": "取得方式（评审或初定）",
                  "approved_on": "批准日期", "issued_on": "发证日期", "issuer": "发证单位",
                  "issuer_region_code": "发证单位地区代码"}
_REGION = re.compile(r"^\d{6}$")
_OURS = re.compile(r"^[0-9X]{18}$")

# outcomes of looking a number up (our registry, then the province)
FOUND, NOT_FOUND, UNAVAILABLE = "found", "not_found", "unavailable"


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def historical_declaration(sub: Mapping[str, Any]) -> dict[str, Any]:
    """The historic certificate a 历史登记 declares (extension field
    `historical_certificate`, docs/lifecycle.md); {} when absent."""
    value = sub.get("historical_certificate")
    return dict(value) if isinstance(value, Mapping) else {}


def looked_up_number(sub: Mapping[str, Any]) -> str | None:
    """The number to look up for this submission: the prior certificate of a 补办/换发,
    the historic certificate of a 历史登记; None for other tracks or none given."""
    track = sub.get("track")
    if track in REISSUE_TRACKS:
        return _text(sub.get("prior_certificate_no")) or None
    if track == HISTORY_TRACK:
        return (_text(historical_declaration(sub).get("certificate_no"))
                or _text(sub.get("prior_certificate_no")) or None)
    return None


def number_is_ours_but_wrong(number: str) -> bool:
    """A number in our 18-character format whose check character (or date, level) is
    wrong: a typo, known without asking anyone. Legacy formats are only looked up."""
    return bool(_OURS.match(number)) and number_problem(number) is not None


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def history_findings(sub: Mapping[str, Any], cat: Catalogue, *, today: dt.date) -> list[Finding]:
    """历史登记: the historic certificate is declared whole and plausibly (rules.md)."""
    if sub.get("track") != HISTORY_TRACK:
        return []
    h = historical_declaration(sub)
    number = looked_up_number(sub) or ""
    bad: list[str] = []
    if not number or len(number) > MAX_NUMBER_LENGTH or number_is_ours_but_wrong(number):
        bad.append("certificate_no")
    if h.get("obtained_by") not in ORIGINS:
        bad.append("obtained_by")
    approved, issued = _date(h.get("approved_on")), _date(h.get("issued_on"))
    if approved is None or approved > today:
        bad.append("approved_on")
    if issued is None or issued > today or (approved is not None and issued < approved):
        bad.append("issued_on")
    if not _text(h.get("issuer")):
        bad.append("issuer")
    if not _REGION.match(_text(h.get("issuer_region_code"))):
        bad.append("issuer_region_code")
    return [cat.make("history.certificate_incomplete", field=f"historical_certificate.{name}",
                     detail=HISTORY_FIELDS[name], value=number) for name in bad]


def lookup_findings(sub: Mapping[str, Any], cat: Catalogue, *, outcome: str | None,
                    record: Mapping[str, Any] | None) -> list[Finding]:
    """What the look-up of the number means for this application. `outcome` None: not
    looked up (nothing to say yet); `record` is the certificate found."""
    track, number = sub.get("track"), looked_up_number(sub) or ""
    if track in REISSUE_TRACKS:  # a number missing or mistyped: submission_checks says so
        if outcome == NOT_FOUND:
            return [cat.make("reissue.prior_certificate_not_found", field="prior_certificate_no",
                             value=number)]
        if outcome == FOUND and record is not None:
            return _prior_findings(sub, cat, number, record)
        return []
    if track == HISTORY_TRACK and outcome == FOUND:
        return [cat.make("history.already_held", field="historical_certificate.certificate_no",
                         value=number)]
    return []


def _prior_findings(sub: Mapping[str, Any], cat: Catalogue, number: str,
                    record: Mapping[str, Any]) -> list[Finding]:
    given = sub.get("applicant")
    applicant: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    if _text(record.get("holder_id_number")) != _text(applicant.get("id_number")):
        return [cat.make("reissue.prior_certificate_not_holders", field="prior_certificate_no",
                         value=number)]
    if record.get("status") != "valid":
        return [cat.make("reissue.prior_certificate_revoked", field="prior_certificate_no",
                         value=number)]
    declared = sub.get("prior_obtained_by")
    if declared in ORIGINS and record.get("obtained_by") in ORIGINS and declared != record["obtained_by"]:
        return [cat.make("reissue.origin_differs", field="prior_obtained_by", value=declared,
                         detail=record["obtained_by"])]
    return []


def successor_origin(prior: Mapping[str, Any]) -> dict[str, Any]:
    """The fields a 补办/换发 certificate takes from the one it replaces: the same title,
    obtained the same way on the same day by the same committee. A prior registered
    as 历史登记 without its origin keeps that word (its origin is not known)."""
    out = {name: prior.get(name) for name in ORIGIN_FIELDS}
    out["approved_on"] = _date(prior.get("approved_on"))
    return out


def historic_fields(sub: Mapping[str, Any]) -> dict[str, Any]:
    """The record of a 历史登记 as declared: its number, dates, issuer and committee.
    Fields not declared are absent (the caller decides; validation refuses them)."""
    h = historical_declaration(sub)
    out: dict[str, Any] = {}
    number = looked_up_number(sub)
    if number:
        out["certificate_no"] = number
    if h.get("obtained_by") in ORIGINS:
        out["obtained_by"] = h["obtained_by"]
    for name in ("approved_on", "issued_on"):
        if _date(h.get(name)) is not None:
            out[name] = _date(h.get(name))
    for name in ("issuer", "issuer_region_code", "committee_name"):
        if _text(h.get(name)):
            out[name] = _text(h.get(name))
    return out


# -- checks over a registry (ours or the province's) -----------------------------------

def title_key(record: Mapping[str, Any]) -> tuple[str, str]:
    return (_text(record.get("holder_id_number")), _text(record.get("qualification_name")))


def several_valid(records: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], list[str]]:
    """(holder ID number, qualification) held by more than one valid certificate."""
    valid: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in records:
        if r.get("status") == "valid":
            valid[title_key(r)].append(str(r.get("certificate_no")))
    return {k: sorted(v) for k, v in valid.items() if len(v) > 1}


def replaced_still_valid(records: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(new, old): a certificate replaces another that is still valid."""
    records = list(records)
    status = {r.get("certificate_no"): r.get("status") for r in records}
    return sorted((str(r["certificate_no"]), str(r["replaces"])) for r in records
                  if r.get("replaces") and status.get(r["replaces"]) == "valid")
