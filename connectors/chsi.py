"""学信 (CHSI) education verification (external-systems.md §2).

Definite answers come back as (status, body): 200 records or report, 404 no match or
unknown code, 410 expired. Anything else outlasting the retries raises Unavailable,
which callers must treat as "ask again later", never as "not held".
"""
from __future__ import annotations

from typing import Any, NamedTuple
from urllib.parse import quote

from zhicheng.connectors.http import SignedClient
from zhicheng.connectors.setup import client_for

ONLINE_CODE_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


class ChsiAnswer(NamedTuple):
    status: int
    body: dict[str, Any]


def _records_shape(status: int, body: Any) -> str | None:
    if status == 200 and not (isinstance(body, dict) and isinstance(body.get("records"), list)
                              and all(isinstance(r, dict) for r in body["records"])):
        return "no records list"
    return None if isinstance(body, dict) else "not an object"


def _report_shape(status: int, body: Any) -> str | None:
    if status == 200 and not (isinstance(body, dict) and isinstance(body.get("record"), dict)
                              and isinstance(body.get("valid_until"), str)):
        return "no record or valid_until"
    return None if isinstance(body, dict) else "not an object"


class ChsiClient:
    def __init__(self, client: SignedClient) -> None:
        self.http = client

    @classmethod
    def from_settings(cls, settings: Any, config: Any, **kw: Any) -> ChsiClient:
        return cls(client_for("chsi", settings, config, **kw))

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> ChsiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def education_records(self, id_number: str, name: str) -> ChsiAnswer:
        r = self.http.call("GET", "/api/v1/education-records", query={"id_number": id_number, "name": name},
                           definite=(404,), shape=_records_shape)
        return ChsiAnswer(r.status, r.body)

    def verification_report(self, online_code: str) -> ChsiAnswer:
        code = online_code.strip().upper()
        if len(code) != 16 or any(c not in ONLINE_CODE_CHARS for c in code):
            return ChsiAnswer(404, {"error": "malformed_code", "message": "not 16 characters of [A-Z0-9]"})
        r = self.http.call("GET", f"/api/v1/verification-reports/{quote(code)}", definite=(404, 410),
                           shape=_report_shape)
        return ChsiAnswer(r.status, r.body)
