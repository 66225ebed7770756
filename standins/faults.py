"""Switchable faults of the stand-in servers, per endpoint, deterministic under a seed.

A fault spec is a plain dict of the knobs below; the board decides, request by request,
what a server does to an endpoint's answer. Decisions come from one random stream per
endpoint seeded by (seed, endpoint), so a test that sends the same requests in the same
order sees the same faults every run.
"""
from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from typing import Any

ALL = "*"  # a spec set for every endpoint of the server


@dataclass(frozen=True)
class FaultSpec:
    error_rate: float = 0.0                 # share answered with one of error_statuses
    error_statuses: tuple[int, ...] = (500, 502, 503)
    burst_429: int = 0                      # the next N requests answer 429 (counts down)
    rate_429: float = 0.0                   # share answered 429
    retry_after: int = 1                    # Retry-After seconds of those 429s
    delay: float = 0.0                      # seconds to wait before answering
    delay_rate: float = 1.0                 # share of requests delayed
    drop_before_rate: float = 0.0           # close the connection, request NOT applied
    drop_after_rate: float = 0.0            # apply the request, then close without answering
    truncate_rate: float = 0.0              # apply, then send half the body and close
    non_json_rate: float = 0.0              # answer an HTML page instead (not applied)
    non_json_status: int = 200
    malformed_rate: float = 0.0             # apply, then answer JSON of the wrong shape
    duplicate_rate: float = 0.0             # hall submissions: repeat items already delivered
    oversize_bytes: int = 0                 # apply, then answer a body of this many bytes (streamed)
    oversize_rate: float = 1.0              # share of requests answered so, when oversize_bytes
    oversize_length: bool = True            # say its Content-Length; False: none, closed at the end
    nested_depth: int = 0                   # apply, then answer JSON arrays nested this deep
    nested_rate: float = 1.0                # share of requests answered so, when nested_depth

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> FaultSpec:
        known = {f.name for f in fields(cls)}
        unknown = set(doc) - known
        if unknown:
            raise ValueError(f"unknown fault knob(s) {sorted(unknown)}; known: {sorted(known)}")
        doc = dict(doc)
        if "error_statuses" in doc:
            doc["error_statuses"] = tuple(int(s) for s in doc["error_statuses"])
        return cls(**doc)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v)
                for f in fields(self) if getattr(self, f.name) != f.default}


@dataclass
class Decision:
    """What to do to one request; the server acts on it in this order."""
    delay: float = 0.0
    drop_before: bool = False
    throttle: int | None = None        # Retry-After seconds when answering 429
    error_status: int | None = None
    non_json_status: int | None = None
    drop_after: bool = False
    truncate: bool = False
    malformed: bool = False
    duplicate_rate: float = 0.0
    oversize: int = 0                  # bytes of the oversized body to send instead
    oversize_length: bool = True
    nested: int = 0                    # depth of the nested JSON to send instead
    rng: random.Random = field(default_factory=random.Random)


class FaultBoard:
    """The faults switched on for one server, changeable at runtime from any thread."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._specs: dict[str, FaultSpec] = {}
        self._rngs: dict[str, random.Random] = {}
        self._lock = threading.Lock()

    def set(self, endpoint: str, **knobs: Any) -> None:
        """Switch faults on for an endpoint ('*' for all); replaces its previous spec."""
        spec = FaultSpec.from_dict(knobs)
        with self._lock:
            self._specs[endpoint] = spec
            self._rngs.pop(endpoint, None)

    def clear(self, endpoint: str | None = None) -> None:
        with self._lock:
            if endpoint is None:
                self._specs.clear()
                self._rngs.clear()
            else:
                self._specs.pop(endpoint, None)

    def reseed(self, seed: int) -> None:
        with self._lock:
            self.seed = seed
            self._rngs.clear()

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {ep: spec.as_dict() for ep, spec in self._specs.items()}

    @contextmanager
    def switched(self, endpoint: str, **knobs: Any) -> Iterator[None]:
        """`with server.faults.switched("returns", drop_after_rate=1): ...`"""
        self.set(endpoint, **knobs)
        try:
            yield
        finally:
            self.clear(endpoint)

    def decide(self, endpoint: str) -> Decision | None:
        """None when no fault is switched on for the endpoint (the common, fast case)."""
        with self._lock:
            key = endpoint if endpoint in self._specs else ALL
            spec = self._specs.get(key)
            if spec is None:
                return None
            rng = self._rngs.setdefault(key, random.Random(f"{self.seed}:{key}"))
            if spec.burst_429 > 0:
                self._specs[key] = replace(spec, burst_429=spec.burst_429 - 1)
                return Decision(throttle=spec.retry_after, rng=rng)
            return _roll(spec, rng)


def _roll(spec: FaultSpec, rng: random.Random) -> Decision:
    """One draw per knob, always in the same order, so the stream stays reproducible."""
    d = Decision(duplicate_rate=spec.duplicate_rate,
                 rng=random.Random(rng.random()))
    hits = [rng.random() < rate for rate in (
        spec.delay_rate if spec.delay else 0.0, spec.drop_before_rate, spec.rate_429,
        spec.error_rate, spec.non_json_rate, spec.drop_after_rate, spec.truncate_rate,
        spec.malformed_rate)]
    status = rng.choice(spec.error_statuses) if spec.error_statuses else 500
    d.delay = spec.delay if hits[0] else 0.0
    d.drop_before = hits[1]
    d.throttle = spec.retry_after if hits[2] else None
    d.error_status = status if hits[3] else None
    d.non_json_status = spec.non_json_status if hits[4] else None
    d.drop_after, d.truncate, d.malformed = hits[5], hits[6], hits[7]
    # drawn only when switched on, so the streams of the knobs above stay as they were
    if spec.oversize_bytes and rng.random() < spec.oversize_rate:
        d.oversize, d.oversize_length = spec.oversize_bytes, spec.oversize_length
    if spec.nested_depth and rng.random() < spec.nested_rate:
        d.nested = spec.nested_depth
    return d
