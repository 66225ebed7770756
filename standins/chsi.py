"""Stand-in of 学信 (CHSI) education verification, external-systems.md §2.

Education records by id_number + name (an empty list: not held; a name mismatch:
404 no_match), verification reports by online code (404 unknown, 410 expired), and a
token-bucket rate limit per app id answering 429 with Retry-After beyond it.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from zhicheng.standins.server import HttpError, Request, Response, Route, StandIn
from zhicheng.standins.store import dumps

ONLINE_CODE = re.compile(r"^[A-Z0-9]{16}$")
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
SCHEMA = """
CREATE TABLE IF NOT EXISTS persons (id_number TEXT PRIMARY KEY, name TEXT NOT NULL, records TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reports (online_code TEXT PRIMARY KEY, valid_until TEXT NOT NULL,
  id_number TEXT NOT NULL, name TEXT NOT NULL, record TEXT NOT NULL);
"""


class TokenBucket:
    """`rate` requests a second with bursts up to `burst`, one bucket per app id."""

    def __init__(self, rate: float, burst: float | None, clock: Callable[[], float]) -> None:
        self.rate, self.burst, self.clock = rate, burst or max(1.0, rate), clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 when a token was taken, else the seconds until one will be there."""
        with self._lock:
            now = self.clock()
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate


class Chsi(StandIn):
    name = "chsi"

    def __init__(self, *, year_dir: str | Path | None = None, rate_limit: float | None = None,
                 burst: float | None = None, today: dt.date | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.today_fixed = today
        self.bucket: TokenBucket | None = None
        self.set_rate_limit(rate_limit, burst)
        if year_dir is not None:
            self.load_year(year_dir)

    def schema(self) -> str:
        return SCHEMA

    def add_routes(self) -> None:
        self.route("GET", "/api/v1/education-records", "records", self.get_records)
        self.route("GET", r"/api/v1/verification-reports/(?P<code>[^/]+)", "reports", self.get_report)
        self.route("POST", "/_admin/rate-limit", "admin", self._admin_rate, True)
        self.route("POST", "/_admin/persons", "admin", self._admin_person, True)
        self.route("POST", "/_admin/reports", "admin", self._admin_report, True)
        self.route("POST", "/_admin/today", "admin", self._admin_today, True)

    # -- configuration at runtime -----------------------------------------------------
    def set_rate_limit(self, rate: float | None, burst: float | None = None) -> None:
        """Requests a second per app id (None: unlimited); burst defaults to one second's worth."""
        self.bucket = TokenBucket(float(rate), burst, self.clock) if rate else None

    def today(self) -> dt.date:
        return self.today_fixed or dt.datetime.fromtimestamp(self.clock(), SHANGHAI).date()

    def before(self, req: Request, route: Route) -> None:
        if self.bucket is None:
            return
        wait = self.bucket.take(req.app_id or "")
        if wait:
            self.count(route.endpoint, "rate_limited")
            raise HttpError(429, "rate_limited", f"more than {self.bucket.rate:g} requests a second",
                            {"Retry-After": str(max(1, math.ceil(wait)))})

    # -- data -------------------------------------------------------------------------
    def load_year(self, year_dir: str | Path) -> None:
        base = Path(year_dir).resolve() / "chsi"
        if self.store.meta(f"loaded:{base}"):
            return
        with self.store.tx() as db:
            for doc in _jsonl(base / "records.jsonl"):
                _put_person(db, doc)
            for doc in _jsonl(base / "reports.jsonl"):
                _put_report(db, doc)
            db.execute("INSERT INTO meta VALUES (?, ?)", (f"loaded:{base}", "1"))

    def add_person(self, id_number: str, name: str, records: list[dict]) -> None:
        with self.store.tx() as db:
            _put_person(db, {"id_number": id_number, "name": name, "records": records})

    def add_report(self, online_code: str, valid_until: str, id_number: str, name: str, record: dict) -> None:
        with self.store.tx() as db:
            _put_report(db, {"online_code": online_code, "valid_until": valid_until,
                             "id_number": id_number, "name": name, "record": record})

    def _admin_person(self, req: Request) -> Response:
        doc = req.json()
        self.add_person(doc["id_number"], doc["name"], doc.get("records") or [])
        return Response(201, {"id_number": doc["id_number"]})

    def _admin_report(self, req: Request) -> Response:
        doc = req.json()
        self.add_report(doc["online_code"], doc["valid_until"], doc["id_number"], doc["name"], doc["record"])
        return Response(201, {"online_code": doc["online_code"]})

    def _admin_rate(self, req: Request) -> Response:
        """`{"rate": 20, "burst": 5}`; `{"rate": null}` switches the limit off."""
        doc = req.json()
        self.set_rate_limit(doc.get("rate"), doc.get("burst"))
        return Response(body={"rate": doc.get("rate"), "burst": self.bucket.burst if self.bucket else None})

    def _admin_today(self, req: Request) -> Response:
        """`{"today": "2026-06-01"}` fixes the date reports expire against; null: the clock's."""
        value = req.json().get("today")
        self.today_fixed = dt.date.fromisoformat(value) if value else None
        return Response(body={"today": self.today().isoformat()})

    # -- the contract -----------------------------------------------------------------
    def get_records(self, req: Request) -> Response:
        id_number, name = req.arg("id_number"), req.arg("name")
        if not id_number or not name:
            raise HttpError(400, "bad_request", "id_number and name are both required")
        rows = self.store.query("SELECT name, records FROM persons WHERE id_number = ?", (id_number,))
        if not rows:
            return Response(body={"records": []})
        if rows[0]["name"] != name.strip():
            raise HttpError(404, "no_match", "the name does not match the holder of this id_number")
        return Response(body={"records": json.loads(rows[0]["records"])})

    def get_report(self, req: Request) -> Response:
        code = req.params["code"]
        rows = self.store.query("SELECT * FROM reports WHERE online_code = ?", (code,)) \
            if ONLINE_CODE.match(code) else []
        if not rows:
            raise HttpError(404, "not_found", "no report with this online verification code")
        r = rows[0]
        if dt.date.fromisoformat(r["valid_until"]) < self.today():
            raise HttpError(410, "expired", f"the report's online code expired on {r['valid_until']}")
        return Response(body={"online_code": code, "valid_until": r["valid_until"],
                              "id_number": r["id_number"], "name": r["name"],
                              "record": json.loads(r["record"])})


def _jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _put_person(db: Any, doc: dict) -> None:
    db.execute("INSERT OR REPLACE INTO persons VALUES (?, ?, ?)",
               (doc["id_number"], doc["name"], dumps(doc.get("records") or [])))


def _put_report(db: Any, doc: dict) -> None:
    db.execute("INSERT OR REPLACE INTO reports VALUES (?, ?, ?, ?, ?)",
               (doc["online_code"], doc["valid_until"], doc["id_number"], doc["name"], dumps(doc["record"])))
