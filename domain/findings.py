"""Findings: what every check yields, in one shape for validation, 学信 and review."""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from string import Formatter
from typing import Any

SEVERITIES = ("error", "warning", "review")


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str           # error: returned to the applicant; warning/review: shown to reviewers
    message: str            # Chinese, for the applicant
    field: str | None = None
    material_id: str | None = None
    params: Mapping[str, Any] = dataclass_field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        """Stable identity of a finding within one revision, so re-runs do not duplicate it."""
        raw = "|".join([self.code, self.field or "", self.material_id or "",
                        str(sorted((k, str(v)) for k, v in self.params.items()))])
        return hashlib.sha256(raw.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class FindingType:
    severity: str
    message: str


class Catalogue:
    """The finding types of config/findings.yaml; `make` fills in the message."""

    def __init__(self, types: Mapping[str, FindingType]) -> None:
        self._types = dict(types)

    @classmethod
    def from_records(cls, records: Mapping[str, Mapping[str, str]]) -> "Catalogue":
        types = {}
        for code, rec in records.items():
            if rec.get("severity") not in SEVERITIES:
                raise ValueError(f"finding {code}: severity must be one of {', '.join(SEVERITIES)}")
            types[code] = FindingType(rec["severity"], rec["message"])
        return cls(types)

    def __contains__(self, code: str) -> bool:
        return code in self._types

    def codes(self) -> list[str]:
        return sorted(self._types)

    def placeholders(self, code: str) -> set[str]:
        """The names a finding of this code must be given for its message to be whole."""
        return {n for _, n, _, _ in Formatter().parse(self._types[code].message) if n}

    def make(self, code: str, *, field: str | None = None, material_id: str | None = None,
             **params: Any) -> Finding:
        kind = self._types[code]
        return Finding(code, kind.severity, _fill(kind.message, params), field, material_id, params)


def _fill(template: str, params: Mapping[str, Any]) -> str:
    # A missing placeholder shows as empty rather than failing a whole batch.
    names = [n for _, n, _, _ in Formatter().parse(template) if n]
    return template.format(**{n: params.get(n, "") for n in names})
