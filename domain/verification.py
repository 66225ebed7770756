"""Rules of the public verification service (docs/verification.md): how many guesses a
client gets, what a certificate's status reads as, and which region an office sees.

Pure functions and plain state over times the caller passes in: no clock, database or
network here, so the web layer and the tests drive them with a clock they control.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class GuessPolicy:
    """Wrong answers a key (a client, a certificate number) may give freely within
    `window_seconds`; each one beyond costs a wait that doubles from `first_delay_seconds`
    up to `max_delay_seconds`. A right answer does not reset the count: a guesser that
    also knows one real certificate cannot launder its failures with it."""

    free_failures: int = 5
    window_seconds: float = 3600.0
    first_delay_seconds: float = 30.0
    max_delay_seconds: float = 3600.0

    def delay_after(self, failures: int) -> float:
        """Seconds to wait after the `failures`-th wrong answer within the window."""
        beyond = failures - self.free_failures
        if beyond < 0:
            return 0.0
        return min(self.first_delay_seconds * 2 ** beyond, self.max_delay_seconds)


@dataclass
class _Record:
    failures: int
    first_at: float
    blocked_until: float


class GuessLimiter:
    """Per-key memory of wrong answers under a GuessPolicy. Bounded: the oldest keys are
    forgotten beyond `max_keys` (an attacker with that many addresses gets no more than
    the per-number limit gives him anyway)."""

    def __init__(self, policy: GuessPolicy, max_keys: int = 100_000) -> None:
        self.policy = policy
        self.max_keys = max_keys
        self._records: OrderedDict[Hashable, _Record] = OrderedDict()

    def retry_after(self, key: Hashable, now: float) -> float:
        """Seconds until `key` may try again; 0 when it may now."""
        rec = self._current(key, now)
        return max(0.0, rec.blocked_until - now) if rec else 0.0

    def failed(self, key: Hashable, now: float) -> float:
        """Record a wrong answer of `key`; returns the wait it now has (0: none)."""
        rec = self._current(key, now)
        if rec is None:
            rec = self._records[key] = _Record(0, now, 0.0)
            while len(self._records) > self.max_keys:
                self._records.popitem(last=False)
        rec.failures += 1
        rec.blocked_until = now + self.policy.delay_after(rec.failures)
        self._records.move_to_end(key)
        return rec.blocked_until - now

    def _current(self, key: Hashable, now: float) -> _Record | None:
        rec = self._records.get(key)
        if rec is None:
            return None
        if now - rec.first_at > self.policy.window_seconds and now >= rec.blocked_until:
            del self._records[key]  # a new window: what was guessed before is forgiven
            return None
        return rec


@dataclass(frozen=True)
class StatusView:
    """A certificate's status as the public page shows it."""

    status: str          # the registry's word: valid, revoked, or any later one
    label: str           # 有效, 已撤销, 已被取代, ... (config/web.yaml)
    valid: bool
    replaced_by: str | None = None


def status_view(status: str, replaced_by: str | None, labels: Mapping[str, str]) -> StatusView:
    """What the registry holds today, read for a third party: only `valid` is valid; a
    certificate another one replaces reads as replaced (by which number); any other
    status, including ones added after this was written, reads as not valid, with its
    configured label or, unlabelled, the status itself."""
    if status == "valid" and replaced_by is None:
        return StatusView(status, labels.get("valid", "有效"), True)
    if replaced_by is not None:
        return StatusView(status, labels.get("superseded", "已被取代"), False, replaced_by)
    return StatusView(status, labels.get(status, status), False)


def region_prefix(office_region: str) -> str:
    """The prefix of the region codes an office sees: a province office (320000) its
    province, a city office (321200) its city with its districts, a county its own."""
    if office_region.endswith("0000"):
        return office_region[:2]
    if office_region.endswith("00"):
        return office_region[:4]
    return office_region


def in_scope(office_region: str, code: str | None) -> bool:
    return code is not None and code.startswith(region_prefix(office_region))
