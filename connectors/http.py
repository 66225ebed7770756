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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
import urllib3
from pydantic import SecretStr
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
    max_answer_mb: float = 64       # a JSON answer beyond it is a bad answer (transient)
    max_json_depth: int = 64        # nesting beyond it is too: nothing we read goes that deep


@dataclass(frozen=True)
class Response:
    status: int
    body: Any            # parsed JSON, or the bytes for `raw=True` (None when over_limit)
    headers: Mapping[str, str]
    over_limit: bool = False   # raw: the body went beyond `max_bytes`; it was not read on


class Transient(Exception):
    """One attempt failed in a way worth retrying (kept inside this module)."""


def backoff(attempt: int, policy: Policy, rnd: random.Random) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2^attempt)] (attempt counts from 0)."""
    return rnd.uniform(0, min(policy.backoff_cap_seconds, policy.backoff_base_seconds * 2 ** attempt))


class SignedClient:
    def __init__(self, system: str, *, url: str, app_id: str, secret: SecretStr | str, policy: Policy,
                 sleep: Callable[[float], None] = time.sleep, wall: Callable[[], float] = time.time,
                 seed: int | None = None) -> None:
        self.system, self.base, self.app_id = system, url.rstrip("/"), app_id
        # held masked (repr, logs, a worker's initargs), unwrapped only to sign
        self.secret = secret if isinstance(secret, SecretStr) else SecretStr(secret)
        self.policy, self.sleep, self.wall = policy, sleep, wall
        self.rnd = random.Random(seed)
        # `sleep` is for back-off and Retry-After (tests record them); the limiter keeps real time
        self.limiter = RateLimiter(policy.rate_per_second) if policy.rate_per_second else None
        self.session = _session_for(self.base)
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=policy.pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self._direct = _direct_pool(self.session, self.base, policy.pool_size)
        self._timeout = urllib3.Timeout(connect=policy.connect_timeout_seconds, read=policy.read_timeout_seconds)

    def close(self) -> None:
        self.session.close()
        if self._direct is not None:
            self._direct.clear()

    def call(self, method: str, path: str, *, query: Mapping[str, Any] | None = None,
             json_body: Any = None, headers: Mapping[str, str] | None = None,
             definite: tuple[int, ...] = (), raw: bool = False, max_bytes: int | None = None,
             shape: Callable[[int, Any], str | None] | None = None) -> Response:
        """Send until a definite answer: 2xx, or a status in `definite` (e.g. 404).

        `shape(status, body)` names what is wrong with a definite answer's body, or None:
        an answer of the wrong shape is treated like one that is not JSON (transient).
        `raw=True`: a 2xx body is returned as bytes, read as a stream and never more
        than `max_bytes` of it: beyond, the answer comes back `over_limit` (a definite
        answer about the item, not retried) and the connection is closed unread.

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
                answer = self._once(method, url, target, body, headers, raw, max_bytes)
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
              headers: Mapping[str, str] | None, raw: bool, max_bytes: int | None) -> Response:
        h = signed_headers(self.app_id, self.secret.get_secret_value(), method, target, body, int(self.wall()))
        if body:
            h["Content-Type"] = "application/json; charset=utf-8"
        if raw:
            h["Accept-Encoding"] = "identity"   # the file as uploaded, nothing to inflate
        h.update(headers or {})
        answer_limit = int(self.policy.max_answer_mb * 1024 * 1024)
        if self._direct is not None:
            status, got_headers, content = self._urlopen(method, url, body, h, raw, max_bytes, answer_limit)
        else:   # through a proxy: requests knows how
            status, got_headers, content = self._request(method, url, body, h, raw, max_bytes, answer_limit)
        file = raw and 200 <= status < 300
        if content is None and file:
            return Response(status, None, got_headers, over_limit=True)
        if content is None:
            raise Transient(f"{status} with a body beyond {self.policy.max_answer_mb:g} MB")
        if file:
            return Response(status, content, got_headers)
        return Response(status, self._parse(status, content), got_headers)

    def _request(self, method: str, url: str, body: bytes, h: dict[str, str], raw: bool,
                 max_bytes: int | None, answer_limit: int) -> tuple[int, Mapping[str, str], bytearray | None]:
        timeout = (self.policy.connect_timeout_seconds, self.policy.read_timeout_seconds)
        try:
            # streamed, so that no answer is held beyond its limit
            with self.session.request(method, url, data=body or None, headers=h, timeout=timeout,
                                      stream=True) as r:
                if r.status_code >= 500:
                    raise Transient(f"{r.status_code}")
                file = raw and 200 <= r.status_code < 300
                limit = max_bytes if file and max_bytes is not None else answer_limit
                # read it all here: a truncated body raises now, not later
                return r.status_code, r.headers, read_capped(r, limit)
        except requests.RequestException as exc:
            raise Transient(type(exc).__name__) from None

    def _urlopen(self, method: str, url: str, body: bytes, h: dict[str, str], raw: bool, max_bytes: int | None,
                 answer_limit: int) -> tuple[int, Mapping[str, str], bytearray | None]:
        """A call straight through urllib3, the pool requests itself uses: requests' own
        layers (preparing the request, merging settings, hooks) were about a third of a
        download's CPU, and a fifth of a notification's. The same answer as `_request`:
        streamed, capped, a truncated body raising now; no redirect is followed (none is
        in the contract)."""
        assert self._direct is not None
        try:
            r = self._direct.urlopen(method, url, body=body or None, headers={**DEFAULT_HEADERS, **h},
                                     timeout=self._timeout, preload_content=False, redirect=False, retries=False)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise Transient(_requests_name(exc)) from None
        content = None
        try:
            if r.status >= 500:
                raise Transient(f"{r.status}")
            file = raw and 200 <= r.status < 300
            limit = max_bytes if file and max_bytes is not None else answer_limit
            content = capped(r.headers.get("Content-Length", ""), r.stream(64 * 1024, decode_content=True), limit)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise Transient(_requests_name(exc)) from None
        finally:
            if content is None:
                r.close()   # unread or broken: the connection is not reused
            r.release_conn()
        return r.status, r.headers, content

    def _parse(self, status: int, content: bytes | bytearray) -> Any:
        """The JSON of an answer; a body that is not JSON, or nested deeper than we read
        (the decoder's RecursionError included), is a bad answer: transient."""
        try:
            parsed = json.loads(content) if content else None
        except ValueError:
            raise Transient(f"{status} with a body that is not JSON") from None
        except RecursionError:
            raise Transient(f"{status} with a body nested too deep to read") from None
        if nested_beyond(parsed, self.policy.max_json_depth):
            raise Transient(f"{status} with a body nested deeper than {self.policy.max_json_depth} levels")
        return parsed


def read_capped(r: requests.Response, limit: int) -> bytearray | None:
    """The body, or None as soon as it is known to exceed `limit` bytes (by its
    Content-Length, or while reading): never more than `limit` plus one chunk is held."""
    return capped(r.headers.get("Content-Length", ""), r.iter_content(64 * 1024), limit)


def capped(declared: str, chunks: Iterable[bytes], limit: int) -> bytearray | None:
    """`read_capped` over a declared Content-Length and the body's chunks."""
    if declared.isdigit() and int(declared) > limit:
        return None
    content = bytearray()
    for chunk in chunks:
        content += chunk
        if len(content) > limit:
            return None
    return content


def _requests_name(exc: Exception) -> str:
    """What requests would have called this failure (the attempt's message in logs)."""
    if isinstance(exc, urllib3.exceptions.NewConnectionError):
        return "ConnectionError"
    if isinstance(exc, urllib3.exceptions.TimeoutError):
        return "ReadTimeout" if isinstance(exc, urllib3.exceptions.ReadTimeoutError) else "ConnectTimeout"
    if isinstance(exc, urllib3.exceptions.ProtocolError):
        return "ChunkedEncodingError" if "IncompleteRead" in str(exc) else "ConnectionError"
    return type(exc).__name__


def nested_beyond(value: Any, depth: int) -> bool:
    """Whether lists and objects nest deeper than `depth` (without recursion)."""
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        children = v.values() if isinstance(v, dict) else v if isinstance(v, list) else None
        if children is None:
            continue
        if d > depth:
            return True
        stack.extend((c, d + 1) for c in children if isinstance(c, (dict, list)))
    return False


# What requests would send by default (an answer may come compressed unless `raw` asks otherwise).
DEFAULT_HEADERS = {"User-Agent": requests.utils.default_user_agent(), "Accept": "*/*",
                   "Accept-Encoding": "gzip, deflate"}


def _direct_pool(http: requests.Session, base_url: str, size: int) -> urllib3.PoolManager | None:
    """A pool for calls with the TLS verification requests would use (its CA bundle, or
    the environment's); None where a proxy serves this URL (requests then carries the
    calls)."""
    if http.proxies:
        return None
    if not base_url.startswith("https://"):
        return urllib3.PoolManager(num_pools=1, maxsize=size, retries=False)
    verify = http.verify if isinstance(http.verify, str) else requests.utils.DEFAULT_CA_BUNDLE_PATH
    folder = os.path.isdir(verify)
    return urllib3.PoolManager(num_pools=1, maxsize=size, retries=False, cert_reqs="CERT_REQUIRED",
                               ca_certs=None if folder else verify, ca_cert_dir=verify if folder else None)


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
