"""The signed, retrying HTTP client all three connectors share.

One `SignedClient` per external system: a pooled `requests.Session`, the request
signing of external-systems.md, the client-side rate limit, and the caller duties of
its error table. Every attempt is signed afresh (new timestamp and nonce), so a retry
is never refused as a replay.
"""
from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from requests.adapters import HTTPAdapter

from zhicheng.connectors.errors import ExternalError, Misconfigured, Rejected, Unavailable
from zhicheng.connectors.ratelimit import RateLimiter
from zhicheng.domain.signing import signed_headers


@dataclass(frozen=True)
class Policy:
    """How one system is talked to (config/connectors.yaml)."""

    connect_timeout_seconds: float = 5
    read_timeout_seconds: float = 30
    max_attempts: int = 5
    backoff_base_seconds: float = 0.5
    backoff_cap_seconds: float = 30
    max_429_waits: int = 10
    max_retry_after_seconds: float = 300
    pool_size: int = 8
    rate_per_second: float | None = None


@dataclass(frozen=True)
class Response:
    status: int
    body: Any            # parsed JSON, or bytes for `raw=True`
    headers: Mapping[str, str]


class Transient(Exception):
    """One attempt failed in a way worth retrying (kept inside this module)."""


def backoff(attempt: int, policy: Policy, rnd: random.Random) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2^attempt)] (attempt counts from 0)."""
    return rnd.uniform(0, min(policy.backoff_cap_seconds, policy.backoff_base_seconds * 2 ** attempt))


class SignedClient:
    def __init__(self, system: str, *, url: str, app_id: str, secret: str, policy: Policy,
                 sleep: Callable[[float], None] = time.sleep, wall: Callable[[], float] = time.time,
                 seed: int | None = None) -> None:
        self.system, self.base, self.app_id, self.secret = system, url.rstrip("/"), app_id, secret
        self.policy, self.sleep, self.wall = policy, sleep, wall
        self.rnd = random.Random(seed)
        # `sleep` is for back-off and Retry-After (tests record them); the limiter keeps real time
        self.limiter = RateLimiter(policy.rate_per_second) if policy.rate_per_second else None
        self.session = _session_for(self.base)
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=policy.pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def close(self) -> None:
        self.session.close()

    def call(self, method: str, path: str, *, query: Mapping[str, Any] | None = None,
             json_body: Any = None, headers: Mapping[str, str] | None = None,
             definite: tuple[int, ...] = (), raw: bool = False,
             shape: Callable[[int, Any], str | None] | None = None) -> Response:
        """Send until a definite answer: 2xx, or a status in `definite` (e.g. 404).

        `shape(status, body)` names what is wrong with a definite answer's body, or None:
        an answer of the wrong shape is treated like one that is not JSON (transient).

        Raises Rejected (400/422, or 409 twice), Misconfigured (401/403) or Unavailable
        (transient failures or 429s beyond the policy's bounds).
        """
        qs = urlencode([(k, v) for k, v in (query or {}).items() if v is not None])
        url = f"{self.base}{path}" + (f"?{qs}" if qs else "")
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        body = b"" if json_body is None else json.dumps(json_body, ensure_ascii=False).encode()
        call = f"{method} {path}"
        attempts = waits_429 = conflicts = 0
        last = "no answer"
        while True:
            if self.limiter:
                self.limiter.acquire()
            try:
                answer = self._once(method, url, target, body, headers, raw)
                if shape and (200 <= answer.status < 300 or answer.status in definite):
                    problem = shape(answer.status, answer.body)
                    if problem:
                        raise Transient(f"{answer.status} answer of the wrong shape: {problem}")
            except Transient as exc:
                last, attempts = str(exc), attempts + 1
                if attempts >= self.policy.max_attempts:
                    raise Unavailable(self.system, call, f"gave up after {attempts} attempts (last: {last})") from None
                self.sleep(backoff(attempts - 1, self.policy, self.rnd))
                continue
            status = answer.status
            if 200 <= status < 300 or status in definite:
                return answer
            code, message = _error_of(answer.body)
            if status == 429:
                waits_429 += 1
                wait = _retry_after(answer.headers)
                if waits_429 > self.policy.max_429_waits or wait > self.policy.max_retry_after_seconds:
                    raise Unavailable(self.system, call, f"rate limited (429) {waits_429} times, "
                                      f"Retry-After {wait:g}s", status=429, code=code)
                self.sleep(wait)
            elif status == 409 and conflicts == 0:
                conflicts += 1  # e.g. nonce_reused: a fresh signature once
            elif status in (401, 403):
                raise Misconfigured(self.system, call, f"{status} {code}: {message}", status=status, code=code)
            else:  # 400, 422, a second 409, any other definite refusal (5xx never gets here)
                raise Rejected(self.system, call, f"{status} {code}: {message}", status=status, code=code)

    def _once(self, method: str, url: str, target: str, body: bytes,
              headers: Mapping[str, str] | None, raw: bool) -> Response:
        h = signed_headers(self.app_id, self.secret, method, target, body, int(self.wall()))
        if body:
            h["Content-Type"] = "application/json; charset=utf-8"
        h.update(headers or {})
        timeout = (self.policy.connect_timeout_seconds, self.policy.read_timeout_seconds)
        try:
            r = self.session.request(method, url, data=body or None, headers=h, timeout=timeout)
            content = r.content  # read it all here: a truncated body raises now, not later
        except requests.RequestException as exc:
            raise Transient(type(exc).__name__) from None
        if r.status_code >= 500:
            raise Transient(f"{r.status_code}")
        if raw and 200 <= r.status_code < 300:
            return Response(r.status_code, content, r.headers)
        try:
            parsed = json.loads(content) if content else None
        except ValueError:
            raise Transient(f"{r.status_code} with a body that is not JSON") from None
        return Response(r.status_code, parsed, r.headers)


def _session_for(base_url: str) -> requests.Session:
    """A session with the environment's proxy and CA settings read once, here: left to
    requests, they are read again on every request (a quarter of a material download's
    CPU). NO_PROXY is honoured for this system's URL as requests would."""
    session = requests.Session()
    session.trust_env = False
    session.proxies = requests.utils.get_environ_proxies(base_url)
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    return session


def _error_of(body: Any) -> tuple[str, str]:
    if isinstance(body, dict):
        return str(body.get("error") or "-"), str(body.get("message") or "")
    return "-", ""


def _retry_after(headers: Mapping[str, str]) -> float:
    try:
        return max(0.0, float(headers.get("Retry-After", "1")))
    except ValueError:
        return 1.0


__all__ = ["ExternalError", "Policy", "Response", "SignedClient", "Transient", "backoff"]
