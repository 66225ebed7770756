"""Request signing of external-systems.md "Common: request signing", both sides.

The same functions sign in the connectors and verify in the stand-ins, so the two can
never drift apart; tests pin them to hand-computed examples of the contract.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

NONCE = re.compile(r"^[A-Za-z0-9]{16,64}$")
MAX_SKEW_SECONDS = 300
NONCE_MEMORY_SECONDS = 600


def string_to_sign(method: str, path_and_query: str, timestamp: str, nonce: str, body: bytes) -> str:
    """Five lines: METHOD, PATH?QUERY as sent, X-Timestamp, X-Nonce, hex SHA-256 of the body."""
    return "\n".join([method.upper(), path_and_query, timestamp, nonce,
                      hashlib.sha256(body or b"").hexdigest()])


def signature(secret: str, method: str, path_and_query: str, timestamp: str, nonce: str,
              body: bytes) -> str:
    msg = string_to_sign(method, path_and_query, timestamp, nonce, body)
    return hmac.new(secret.encode(), msg.encode(), hashlib.sha256).hexdigest()


def new_nonce() -> str:
    return secrets.token_hex(16)  # 32 characters of [0-9a-f]


def signed_headers(app_id: str, secret: str, method: str, path_and_query: str, body: bytes,
                   now_unix: int, nonce: str | None = None) -> dict[str, str]:
    nonce = nonce or new_nonce()
    ts = str(int(now_unix))
    return {"X-App-Id": app_id, "X-Timestamp": ts, "X-Nonce": nonce,
            "X-Signature": signature(secret, method, path_and_query, ts, nonce, body)}


@dataclass(frozen=True)
class Refusal:
    status: int
    error: str
    message: str


def check_request(headers: Mapping[str, str], secrets_by_app: Mapping[str, str], method: str,
                  path_and_query: str, body: bytes, now_unix: float) -> Refusal | None:
    """What a server answers to a request's signature headers; None when they are right.

    Nonce reuse is the caller's check (it needs memory); this covers the rest.
    """
    app_id = headers.get("X-App-Id", "")
    ts, nonce, sig = (headers.get(h, "") for h in ("X-Timestamp", "X-Nonce", "X-Signature"))
    secret = secrets_by_app.get(app_id)
    if secret is None or not ts.isdigit() or not NONCE.match(nonce):
        return Refusal(401, "bad_signature", "unknown app id or malformed signing headers")
    expected = signature(secret, method, path_and_query, ts, nonce, body)
    if not hmac.compare_digest(expected, sig.lower()):
        return Refusal(401, "bad_signature", "the signature does not match the request")
    if abs(now_unix - int(ts)) > MAX_SKEW_SECONDS:
        return Refusal(401, "stale_timestamp", f"timestamp more than {MAX_SKEW_SECONDS}s off")
    return None
