"""Stand-in of the provincial integration system (省一体化平台), external-systems.md §3.

batchUpsert with a required Idempotency-Key (a replay answers the stored answer and
applies nothing; the same key with another body is 422), versions (lower or identical:
unchanged; newer: updated), per-record rejections; GET one and GET a page for
reconciliation. It counts how often each record was applied, for exactly-once tests.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from zhicheng.domain.certificate_record import record_problem
from zhicheng.standins.server import HttpError, Request, Response, StandIn
from zhicheng.standins.store import dumps

SCHEMA = """
CREATE TABLE IF NOT EXISTS certificates (
  certificate_no TEXT PRIMARY KEY, version INTEGER NOT NULL, issuer_region_code TEXT NOT NULL,
  issue_year INTEGER NOT NULL, body TEXT NOT NULL, applied INTEGER NOT NULL DEFAULT 0);
-- a scope's pages in number order straight off the index: with (region, year) alone each
-- page sorted the whole scope, bodies and all (1.30 s of CPU against 0.08 s for 20 pages)
CREATE INDEX IF NOT EXISTS certificates_scope ON certificates (issuer_region_code, issue_year, certificate_no);
CREATE TABLE IF NOT EXISTS idempotency (
  app_id TEXT NOT NULL, key TEXT NOT NULL, body_sha256 TEXT NOT NULL, answer TEXT NOT NULL,
  PRIMARY KEY (app_id, key));
"""


class Province(StandIn):
    name = "province"

    def __init__(self, *, year_dir: str | Path | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        if year_dir is not None:
            self.load_year(year_dir)

    def load_year(self, year_dir: str | Path) -> int:
        """The certificates the province already holds (province/certificates.jsonl), once.

        Preloaded records count as held, not as applied (applied_counts stays 0 for them).
        """
        path = Path(year_dir).resolve() / "province" / "certificates.jsonl"
        if not path.exists() or self.store.meta(f"loaded:{path}"):
            return 0
        recs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        with self.store.tx() as db:
            for rec in recs:
                db.execute("INSERT OR REPLACE INTO certificates VALUES (?, ?, ?, ?, ?, 0)",
                           (rec["certificate_no"], int(rec.get("version") or 1), rec.get("issuer_region_code") or "",
                            int(str(rec.get("issued_on") or "0")[:4] or 0), dumps(rec)))
            db.execute("INSERT INTO meta VALUES (?, ?)", (f"loaded:{path}", "1"))
        return len(recs)

    def schema(self) -> str:
        return SCHEMA

    def add_routes(self) -> None:
        self.route("POST", "/api/v1/certificates:batchUpsert", "batch_upsert", self.batch_upsert)
        self.route("GET", r"/api/v1/certificates/(?P<no>[^/]+)", "get_certificate", self.get_certificate)
        self.route("GET", "/api/v1/certificates", "list_certificates", self.list_certificates)
        self.route("GET", "/_admin/applied", "admin", lambda r: Response(body=self.applied_counts()), True)

    # -- the contract -----------------------------------------------------------------
    def batch_upsert(self, req: Request) -> Response:
        key = (req.headers.get("Idempotency-Key") or "").strip()
        if not key:
            raise HttpError(400, "missing_idempotency_key", "the Idempotency-Key header is required")
        doc = req.json()
        records = doc.get("records") if isinstance(doc, dict) else None
        if not isinstance(records, list):
            raise HttpError(400, "bad_request", 'expected {"records": [CertificateRecord, ...]}')
        if not 1 <= len(records) <= 500:
            raise HttpError(422, "batch_size", "a batch has 1 to 500 records")
        digest = hashlib.sha256(dumps(doc).encode()).hexdigest()
        with self.store.tx() as db:
            hit = db.execute("SELECT body_sha256, answer FROM idempotency WHERE app_id = ? AND key = ?",
                             (req.app_id, key)).fetchone()
            if hit is not None:
                if hit[0] != digest:
                    raise HttpError(422, "idempotency_key_reused",
                                    "this Idempotency-Key was used with a different body")
                return Response(body=json.loads(hit[1]))
            answer = {"results": [_upsert(db, rec) for rec in records]}
            db.execute("INSERT INTO idempotency VALUES (?, ?, ?, ?)", (req.app_id, key, digest, dumps(answer)))
        return Response(body=answer)

    def get_certificate(self, req: Request) -> Response:
        rows = self.store.query("SELECT body FROM certificates WHERE certificate_no = ?", (req.params["no"],))
        if not rows:
            raise HttpError(404, "not_found", f"no certificate {req.params['no']}")
        return Response(body=json.loads(rows[0]["body"]))

    def list_certificates(self, req: Request) -> Response:
        page, size = _int_arg(req, "page", 1, 1, None), _int_arg(req, "page_size", 100, 1, 1000)
        where: list[str] = []
        args: list[str | int | None] = []
        if req.arg("issuer_region_code"):
            where.append("issuer_region_code = ?")
            args.append(req.arg("issuer_region_code"))
        if req.arg("year"):
            where.append("issue_year = ?")
            args.append(_int_arg(req, "year", 0, 1900, 9999))
        cond = (" WHERE " + " AND ".join(where)) if where else ""
        total = self.store.query(f"SELECT count(*) AS n FROM certificates{cond}", tuple(args))[0]["n"]
        rows = self.store.query(f"SELECT body FROM certificates{cond} ORDER BY certificate_no "
                                "LIMIT ? OFFSET ?", (*args, size, (page - 1) * size))
        return Response(body={"items": [json.loads(r["body"]) for r in rows], "total": total})

    # -- what tests read --------------------------------------------------------------
    def applied_counts(self) -> dict[str, int]:
        """certificate_no -> how many times a write of it took effect (created or updated)."""
        return {r["certificate_no"]: r["applied"] for r in
                self.store.query("SELECT certificate_no, applied FROM certificates ORDER BY certificate_no")}

    def record(self, certificate_no: str) -> dict | None:
        rows = self.store.query("SELECT body FROM certificates WHERE certificate_no = ?", (certificate_no,))
        return json.loads(rows[0]["body"]) if rows else None

    def records(self) -> list[dict]:
        return [json.loads(r["body"]) for r in
                self.store.query("SELECT body FROM certificates ORDER BY certificate_no")]


def _upsert(db: Any, rec: Any) -> dict:
    no = rec.get("certificate_no") if isinstance(rec, dict) else None
    problem = record_problem(rec)
    if problem:
        return {"certificate_no": no if isinstance(no, str) else None, "status": "rejected", "error": problem}
    stored = db.execute("SELECT version, body FROM certificates WHERE certificate_no = ?", (no,)).fetchone()
    body, year = dumps(rec), int(rec["issued_on"][:4])
    if stored is None:
        db.execute("INSERT INTO certificates VALUES (?, ?, ?, ?, ?, 1)",
                   (no, rec["version"], rec["issuer_region_code"], year, body))
        return {"certificate_no": no, "status": "created", "error": None}
    if rec["version"] < stored[0] or (rec["version"] == stored[0] and body == stored[1]):
        return {"certificate_no": no, "status": "unchanged", "error": None}
    if rec["version"] == stored[0]:
        return {"certificate_no": no, "status": "rejected", "error": "version_conflict"}
    db.execute("UPDATE certificates SET version = ?, issuer_region_code = ?, issue_year = ?, body = ?, "
               "applied = applied + 1 WHERE certificate_no = ?",
               (rec["version"], rec["issuer_region_code"], year, body, no))
    return {"certificate_no": no, "status": "updated", "error": None}


def _int_arg(req: Request, name: str, default: int, low: int, high: int | None) -> int:
    raw = req.arg(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < low or (high is not None and int(raw) > high):
        raise HttpError(400, "bad_request", f"{name} must be an integer from {low}" +
                        (f" to {high}" if high else ""))
    return int(raw)
