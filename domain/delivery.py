"""Delivery to the province: batches, idempotency keys, backoff and reconciliation,
as pure functions over plain records."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Fields the province stores and reconciliation compares (external-systems.md §3).
RECORD_FIELDS = (
    "certificate_no", "version", "holder_name", "holder_id_number", "qualification_name",
    "level", "series", "specialty", "obtained_by", "committee_name", "approved_on",
    "issued_on", "issuer", "issuer_region_code", "filed_with_province", "status",
    "replaces", "document_sha256", "batch_root",
)


def chunked(ids: Sequence[int], size: int) -> list[list[int]]:
    """Items in submission order, cut into batches of at most `size`."""
    if size < 1:
        raise ValueError("batch size must be at least 1")
    return [list(ids[i:i + size]) for i in range(0, len(ids), size)]


def batch_key(dedupe_keys: Iterable[str], fingerprint: str = "") -> str:
    """The Idempotency-Key of a batch: a function of exactly what it carries, so a
    retry or a re-run of the same batch sends the same key. `fingerprint` (of the
    body) makes a different body under the same dedupe keys (a database rebuilt from
    scratch) a different key instead of the province's `idempotency_key_reused`."""
    text = "\n".join(dedupe_keys) + (f"\n#{fingerprint}" if fingerprint else "")
    return f"zc-{hashlib.sha256(text.encode()).hexdigest()[:40]}"


def backoff_seconds(attempts: int, *, base: float = 30.0, cap: float = 3600.0) -> float:
    """Wait before the next attempt of a batch that failed `attempts` times."""
    return min(cap, base * (2 ** max(0, attempts - 1)))


def after_failure(attempts: int, max_attempts: int) -> float | None:
    """Seconds to wait after the `attempts`-th failed try, or None: park it as a dead letter."""
    return None if attempts >= max_attempts else backoff_seconds(attempts)


@dataclass(frozen=True)
class Candidate:
    """A queued province record not yet in a batch."""

    id: int
    certificate_no: str | None
    version: int


@dataclass
class Selection:
    send: list[int] = field(default_factory=list)        # in queue order
    superseded: list[int] = field(default_factory=list)  # an older (or twin) version: never sent
    waiting: list[int] = field(default_factory=list)     # its certificate is in a batch still open


def select_to_send(candidates: Sequence[Candidate], *, current: Mapping[str, int],
                   in_open_batches: Iterable[str]) -> Selection:
    """Which queued records go into new batches.

    A newer local version wins: a record older than the registry's version of its
    certificate (`current`) is superseded, and of several queued for one certificate
    only the newest (the first of equals) goes. A certificate that is still in an
    open batch waits for it, so an older version is never sent after a newer one.
    """
    held = set(in_open_batches)
    best: dict[str, Candidate] = {}
    out = Selection()
    for c in candidates:
        if c.certificate_no is None:
            continue
        if c.version < current.get(c.certificate_no, c.version):
            out.superseded.append(c.id)
            continue
        kept = best.get(c.certificate_no)
        if kept is None or c.version > kept.version:
            if kept is not None:
                out.superseded.append(kept.id)
            best[c.certificate_no] = c
        else:
            out.superseded.append(c.id)
    chosen = {c.id for c in best.values()}
    for c in candidates:
        if c.certificate_no is None or c.id in chosen:
            target = out.waiting if c.certificate_no in held else out.send
            target.append(c.id)
    out.superseded.sort()
    return out


def canonical(record: Mapping[str, Any]) -> dict[str, Any]:
    """The compared view of a record: the contract's fields, dates as strings."""
    return {k: (None if record.get(k) is None else
                record[k] if isinstance(record[k], (bool, int)) else str(record[k]))
            for k in RECORD_FIELDS}


@dataclass
class Reconciliation:
    missing: list[str] = field(default_factory=list)     # here, not at the province
    extra: list[str] = field(default_factory=list)       # at the province, not here
    stale: list[str] = field(default_factory=list)       # province holds an older version
    different: list[dict] = field(default_factory=list)  # same version, other content

    @property
    def clean(self) -> bool:
        return not (self.missing or self.extra or self.stale or self.different)

    def rows(self) -> list[dict]:
        out = [{"certificate_no": n, "problem": "missing", "detail": "省平台无此记录"} for n in self.missing]
        out += [{"certificate_no": n, "problem": "extra", "detail": "本地无此记录"} for n in self.extra]
        out += [{"certificate_no": n, "problem": "stale", "detail": "省平台版本较旧"} for n in self.stale]
        out += [{"certificate_no": d["certificate_no"], "problem": "different",
                 "detail": "字段不一致: " + ", ".join(d["fields"])} for d in self.different]
        return out


def reconcile(local: Mapping[str, Mapping], remote: Mapping[str, Mapping]) -> Reconciliation:
    """Compare the newest local version of each certificate with the province's record."""
    result = Reconciliation()
    for no in sorted(local):
        mine, theirs = canonical(local[no]), remote.get(no)
        if theirs is None:
            result.missing.append(no)
            continue
        theirs = canonical(theirs)
        if int(theirs["version"] or 0) < int(mine["version"]):
            result.stale.append(no)
        elif theirs != mine:
            fields = [k for k in RECORD_FIELDS if theirs[k] != mine[k]]
            result.different.append({"certificate_no": no, "fields": fields})
    result.extra = sorted(set(remote) - set(local))
    return result


def body_fingerprint(records: Sequence[Mapping[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(list(records), sort_keys=True, ensure_ascii=False,
                                     default=str).encode()).hexdigest()
