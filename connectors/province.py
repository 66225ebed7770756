"""The provincial integration system (external-systems.md §3): certificate records.

`batch_upsert` is safe to repeat with the same Idempotency-Key: after a timeout the
province may have applied the batch, and the replay returns its stored answer.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from zhicheng.connectors.http import SignedClient
from zhicheng.connectors.setup import client_for

MAX_BATCH = 500
MAX_PAGE_SIZE = 1000
RESULT_STATUSES = frozenset({"created", "updated", "unchanged", "rejected"})


@dataclass(frozen=True)
class RecordResult:
    certificate_no: str
    status: str          # created | updated | unchanged | rejected
    error: str | None


def _results_shape(count: int):
    def check(status: int, body: Any) -> str | None:
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list) or len(results) != count:
            return f"expected {count} results"
        if not all(isinstance(r, dict) and r.get("status") in RESULT_STATUSES for r in results):
            return "a result without a known status"
        return None
    return check


def _page_shape(status: int, body: Any) -> str | None:
    ok = isinstance(body, dict) and isinstance(body.get("items"), list) and isinstance(body.get("total"), int)
    return None if ok else "no items list or total"


class ProvinceClient:
    def __init__(self, client: SignedClient) -> None:
        self.http = client

    @classmethod
    def from_settings(cls, settings: Any, config: Any, **kw: Any) -> ProvinceClient:
        return cls(client_for("province", settings, config, **kw))

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> ProvinceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def batch_upsert(self, records: Sequence[dict[str, Any]], *, idempotency_key: str) -> list[RecordResult]:
        if not 1 <= len(records) <= MAX_BATCH:
            raise ValueError(f"a batch holds 1..{MAX_BATCH} records")
        r = self.http.call("POST", "/api/v1/certificates:batchUpsert", json_body={"records": list(records)},
                           headers={"Idempotency-Key": idempotency_key}, shape=_results_shape(len(records)))
        return [RecordResult(str(x.get("certificate_no")), x["status"], x.get("error"))
                for x in r.body["results"]]

    def get(self, certificate_no: str) -> dict[str, Any] | None:
        r = self.http.call("GET", f"/api/v1/certificates/{quote(certificate_no, safe='')}", definite=(404,),
                           shape=lambda st, b: None if isinstance(b, dict) else "not an object")
        return None if r.status == 404 else r.body

    def page(self, *, issuer_region_code: str | None = None, year: int | None = None, page: int = 1,
             page_size: int = MAX_PAGE_SIZE) -> tuple[list[dict[str, Any]], int]:
        r = self.http.call("GET", "/api/v1/certificates", shape=_page_shape, query={
            "issuer_region_code": issuer_region_code, "year": year, "page": page, "page_size": page_size})
        return r.body["items"], r.body["total"]

    def all(self, *, issuer_region_code: str | None = None, year: int | None = None,
            page_size: int = MAX_PAGE_SIZE) -> Iterator[dict[str, Any]]:
        """Every record of an issuer and year, page by page."""
        page = 1
        while True:
            items, total = self.page(issuer_region_code=issuer_region_code, year=year, page=page,
                                     page_size=page_size)
            yield from items
            if not items or page * page_size >= total:
                return
            page += 1
