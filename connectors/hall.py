"""The online service hall (external-systems.md §1): submissions, files, returns, notifications.

Submissions come back as received (plain dicts): checking them against the contract is
intake's job, which keeps what breaks it as an invalid submission with findings.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from zhicheng.connectors.errors import Rejected
from zhicheng.connectors.http import SignedClient
from zhicheng.connectors.setup import client_for

MAX_PAGE = 500


@dataclass(frozen=True)
class SubmissionPage:
    items: list[Any]
    next_cursor: str | None


@dataclass(frozen=True)
class MaterialFile:
    content: bytes | bytearray
    content_type: str | None
    sha256: str | None   # the hall's X-Content-SHA256


@dataclass(frozen=True)
class TooLarge:
    """A file the hall sent beyond the caller's cap: not read on, not kept."""
    length: int | None   # the hall's Content-Length, when it gave one
    limit: int           # the cap it went beyond, in bytes


@dataclass(frozen=True)
class Receipt:
    id: str
    replayed: bool       # the idempotency key had been used: nothing new was sent


def _page_shape(status: int, body: Any) -> str | None:
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        return "no items list"
    if body.get("next_cursor") is not None and not isinstance(body["next_cursor"], str):
        return "next_cursor is not a string"
    return None


def _id_shape(key: str):
    def check(status: int, body: Any) -> str | None:
        if status == 404:
            return None
        return None if isinstance(body, dict) and isinstance(body.get(key), str) else f"no {key}"
    return check


class HallClient:
    def __init__(self, client: SignedClient) -> None:
        self.http = client

    @classmethod
    def from_settings(cls, settings: Any, config: Any, **kw: Any) -> HallClient:
        return cls(client_for("hall", settings, config, **kw))

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> HallClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def submissions(self, cursor: str | None = None, limit: int = 100) -> SubmissionPage:
        if not 1 <= limit <= MAX_PAGE:
            raise ValueError(f"limit must be 1..{MAX_PAGE}")
        r = self.http.call("GET", "/api/v1/submissions", query={"cursor": cursor, "limit": limit},
                           shape=_page_shape)
        return SubmissionPage(r.body["items"], r.body.get("next_cursor"))

    def material(self, submission_id: str, material_id: str, *,
                 max_bytes: int) -> MaterialFile | TooLarge | None:
        """The file as uploaded, None when the hall does not know it (404), or TooLarge
        when it is longer than `max_bytes` (streamed: no more than that is ever held)."""
        path = f"/api/v1/submissions/{quote(submission_id, safe='')}/materials/{quote(material_id, safe='')}"
        r = self.http.call("GET", path, definite=(404,), raw=True, max_bytes=max_bytes)
        if r.status == 404:
            return None
        if r.over_limit:
            length = r.headers.get("Content-Length", "")
            return TooLarge(int(length) if length.isdigit() else None, max_bytes)
        return MaterialFile(r.body, r.headers.get("Content-Type"), r.headers.get("X-Content-SHA256"))

    def post_return(self, submission_id: str, *, revision: int, stage: str,
                    reasons: list[dict[str, str]], idempotency_key: str) -> Receipt:
        """退回修改; the same key again sends no second SMS. Unknown submission: Rejected."""
        path = f"/api/v1/submissions/{quote(submission_id, safe='')}/returns"
        body = {"revision": revision, "stage": stage, "reasons": reasons, "idempotency_key": idempotency_key}
        r = self.http.call("POST", path, json_body=body, definite=(404,), shape=_id_shape("return_id"))
        if r.status == 404:
            raise Rejected("hall", f"POST {path}", "404: the hall does not know this submission",
                           status=404, code="not_found")
        return Receipt(r.body["return_id"], r.status == 200)

    def cancellations(self, cursor: str | None = None, limit: int = 100) -> SubmissionPage | None:
        """Applicants' cancellations (取消申请), an extension of the contract (docs/lifecycle.md):
        {"items": [{"cancellation_id", "submission_id", "requested_at", "reason"}],
        "next_cursor"}. None: this hall does not offer it (404)."""
        if not 1 <= limit <= MAX_PAGE:
            raise ValueError(f"limit must be 1..{MAX_PAGE}")
        r = self.http.call("GET", "/api/v1/cancellations", query={"cursor": cursor, "limit": limit},
                           definite=(404,), shape=lambda st, b: None if st == 404 else _page_shape(st, b))
        return None if r.status == 404 else SubmissionPage(r.body["items"], r.body.get("next_cursor"))

    def answer_cancellation(self, cancellation_id: str, *, accepted: bool, reasons: list[dict[str, str]],
                            idempotency_key: str) -> Receipt:
        """Accept or refuse (with the reasons the applicant is told) a cancellation; the
        same key again answers the stored receipt (extension, docs/lifecycle.md)."""
        path = f"/api/v1/cancellations/{quote(cancellation_id, safe='')}/answer"
        body = {"accepted": accepted, "reasons": reasons, "idempotency_key": idempotency_key}
        r = self.http.call("POST", path, json_body=body, shape=_id_shape("answer_id"))
        return Receipt(r.body["answer_id"], r.status == 200)

    def notify(self, *, id_number: str, template: str, params: dict[str, str],
               idempotency_key: str) -> Receipt:
        body = {"id_number": id_number, "template": template, "params": params,
                "idempotency_key": idempotency_key}
        r = self.http.call("POST", "/api/v1/notifications", json_body=body,
                           shape=_id_shape("notification_id"))
        return Receipt(r.body["notification_id"], r.status == 200)
