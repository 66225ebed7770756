"""Masking personal data wherever it leaves the registry (docs/privacy.md).

The database is the registry of whole ID numbers and phone numbers, and the certificate
carries its holder's number; everything else — findings sent to applicants, texts and
params of the hall's returns and notifications, quality results and Data Docs, logs,
Prefect artifacts, CLI output, reports — shows a masked form:

    ID number     3202**********0550   (first 4 and last 4 characters)
    phone number  138****5678          (first 3 and last 4)
    e-mail        z***@example.com     (first character of the name)
    name          李*艳, 王*, 欧**华  (first and last character; of two, the first)

Masking works on fields whose meaning is known, never by pattern over free text: a
certificate number has the same shape as an ID number and must stay whole.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

MASK = "*"


def _keep_ends(value: str, head: int, tail: int) -> str:
    """The value with all but `head` and `tail` characters masked. A value too short to
    hide at least four characters that way keeps a quarter of it at each end at most."""
    n = len(value)
    if n < head + tail + 4:
        head = tail = n // 4
    return value[:head] + MASK * (n - head - tail) + (value[n - tail:] if tail else "")


def mask_id_number(value: Any) -> str:
    """`3202**********0550`: the first 4 and last 4 characters of an ID number (or of
    whatever was given as one), the rest masked. None and "" stay empty."""
    text = "" if value is None else str(value).strip()
    return _keep_ends(text, 4, 4) if text else ""


def mask_phone(value: Any) -> str:
    """`138****5678`: the first 3 and last 4 characters of a phone number."""
    text = "" if value is None else str(value).strip()
    return _keep_ends(text, 3, 4) if text else ""


def mask_email(value: Any) -> str:
    """`z***@example.com`: the first character of the local part; the domain stays."""
    text = "" if value is None else str(value).strip()
    local, at, domain = text.partition("@")
    if not at:
        return _keep_ends(text, 1, 0) if text else ""
    return (local[:1] + MASK * 3 if local else "") + at + domain


def mask_name(value: Any) -> str:
    """`李*艳`: a person's name as public pages show it (the verification page). The
    first and the last character stay, the rest is masked; a two-character name keeps
    its first (`王*`), a one-character name is masked whole."""
    text = "" if value is None else str(value).strip()
    if len(text) <= 1:
        return MASK * len(text)
    if len(text) == 2:
        return text[0] + MASK
    return text[0] + MASK * (len(text) - 2) + text[-1]


# Fields that hold personal data, by the name they have in the registry, the hall's
# contract and the rows of quality checks.
PERSONAL_FIELDS: dict[str, Callable[[Any], str]] = {
    "id_number": mask_id_number, "holder_id_number": mask_id_number,
    "phone": mask_phone, "email": mask_email,
}


def mask_field(name: str, value: Any) -> Any:
    """The value as it may be shown outside the registry: masked when the field is
    personal (None stays None), unchanged otherwise."""
    masker = PERSONAL_FIELDS.get(name)
    return value if masker is None or value is None else masker(value)


def mask_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row (a dict of fields) with its personal fields masked."""
    return {k: mask_field(k, v) for k, v in row.items()}


def redact(text: str, *, id_number: str | None = None, phone: str | None = None) -> str:
    """`text` with every occurrence of this person's ID number and phone number replaced
    by its masked form: for texts typed by people (a reviewer's reason) that go to the
    applicant. Only the given values are replaced, so other numbers stay as typed."""
    for value, masker in ((id_number, mask_id_number), (phone, mask_phone)):
        value = (value or "").strip()
        if len(value) >= 6:
            text = text.replace(value, masker(value))
            if value.upper() != value:
                text = text.replace(value.upper(), masker(value.upper()))
            if value.lower() != value:
                text = text.replace(value.lower(), masker(value.lower()))
    return text
