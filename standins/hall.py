"""Stand-in of the online service hall (网上办事服务大厅), external-systems.md §1.

Serves submissions of a year directory (docs/year-directory.md) in submission order with
opaque cursors, the uploaded files as uploaded, and records returns (退回修改) and
notifications idempotently, counting the SMS the real hall would send. Resubmissions
(a higher revision) can be added while it runs, as applicants do after a return.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import mimetypes
from pathlib import Path
from typing import Any

from zhicheng.standins.server import Handler, HttpError, Request, Response, StandIn
from zhicheng.standins.store import dumps
from zhicheng.standins.yearfiles import read_material

TEMPLATES = ("returned", "passed_review", "publicity", "issued", "rejected")
SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, submission_id TEXT NOT NULL, revision INTEGER NOT NULL,
  id_number TEXT, phone TEXT, body TEXT NOT NULL, UNIQUE (submission_id, revision));
CREATE INDEX IF NOT EXISTS submissions_person ON submissions (id_number);
CREATE TABLE IF NOT EXISTS materials (
  submission_id TEXT NOT NULL, material_id TEXT NOT NULL, path TEXT NOT NULL,
  content_type TEXT NOT NULL, PRIMARY KEY (submission_id, material_id));
CREATE TABLE IF NOT EXISTS returns (
  return_id TEXT PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE, submission_id TEXT NOT NULL,
  revision INTEGER NOT NULL, stage TEXT NOT NULL, body TEXT NOT NULL, received_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS notifications (
  notification_id TEXT PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE, id_number TEXT NOT NULL,
  template TEXT NOT NULL, body TEXT NOT NULL, received_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sms (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, ref_id TEXT NOT NULL,
  phone TEXT, text TEXT NOT NULL, sent_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cancellations (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, cancellation_id TEXT NOT NULL UNIQUE,
  submission_id TEXT NOT NULL, requested_at TEXT NOT NULL, reason TEXT);
CREATE TABLE IF NOT EXISTS cancellation_answers (
  cancellation_id TEXT PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE, body TEXT NOT NULL,
  received_at TEXT NOT NULL);
"""


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"hall:{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, seq = raw.split(":")
        if prefix != "hall":
            raise ValueError(prefix)
        return int(seq)
    except (ValueError, UnicodeDecodeError):
        raise HttpError(400, "bad_cursor", "the cursor is not one this hall handed out") from None


class Hall(StandIn):
    name = "hall"

    def __init__(self, *, year_dir: str | Path | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.files_dir = self.store.path.parent / f"{self.store.path.stem}-files"
        if year_dir is not None:
            self.load_year(year_dir)

    def schema(self) -> str:
        return SCHEMA

    def add_routes(self) -> None:
        sub = r"/api/v1/submissions/(?P<sid>[^/]+)"
        self.route("GET", "/api/v1/submissions", "submissions", self.get_submissions)
        self.route("GET", sub + r"/materials/(?P<mid>[^/]+)", "material", self.get_material)
        self.route("POST", sub + "/returns", "returns", self.post_return)
        self.route("POST", "/api/v1/notifications", "notifications", self.post_notification)
        # extension (docs/lifecycle.md): applicants' cancellations (取消申请) and their answers
        self.route("GET", "/api/v1/cancellations", "cancellations", self.get_cancellations)
        self.route("POST", r"/api/v1/cancellations/(?P<cid>[^/]+)/answer", "cancellation_answer",
                   self.post_cancellation_answer)
        self.route("POST", "/_admin/submissions", "admin", self._admin_add, True)
        for what in ("returns", "notifications", "sms"):
            self.route("GET", f"/_admin/{what}", "admin", self._admin_list(what), True)
        # how many, without the list: a year's SMS are a hundred thousand records
        self.route("GET", "/_admin/sms/count", "admin", lambda req: Response(body={"sent": self.sms_sent}), True)

    def _admin_list(self, what: str) -> Handler:
        """What the hall sent applicants (returns, notifications, SMS), for tests and the demo."""
        return lambda req: Response(body=getattr(self, what)())

    # -- loading ----------------------------------------------------------------------
    def load_year(self, year_dir: str | Path) -> int:
        """Load a year directory once (a restart on the same state does not load twice)."""
        year_dir = Path(year_dir).resolve()
        if self.store.meta(f"loaded:{year_dir}"):
            return 0
        files = {}
        mpath = year_dir / "materials.jsonl"
        if mpath.exists():
            for line in mpath.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    m = json.loads(line)
                    files[(m["submission_id"], m["material_id"])] = (
                        str(year_dir / m["path"]), m.get("content_type") or "application/octet-stream")
        subs = [json.loads(line) for line in
                (year_dir / "submissions.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
        with self.store.tx() as db:
            for s in subs:
                self._insert(db, s)
            db.executemany("INSERT OR REPLACE INTO materials VALUES (?, ?, ?, ?)",
                           [(sid, mid, p, ct) for (sid, mid), (p, ct) in files.items()])
            db.execute("INSERT INTO meta VALUES (?, ?)", (f"loaded:{year_dir}", "1"))
        return len(subs)

    def _insert(self, db: Any, s: dict) -> None:
        # The hall serves what applicants submitted, however ill-typed (the back office
        # judges it); only its own keys, submission_id and revision, must be sound.
        given = s.get("applicant")
        applicant: dict[str, Any] = given if isinstance(given, dict) else {}
        phone = applicant.get("phone")
        db.execute("INSERT INTO submissions (submission_id, revision, id_number, phone, body) "
                   "VALUES (?, ?, ?, ?, ?)",
                   (str(s["submission_id"]), int(s["revision"]), _text(applicant.get("id_number")),
                    _text(phone), json.dumps(s, ensure_ascii=False)))

    def add_submission(self, submission: dict, materials: dict[str, tuple[bytes, str]] | None = None) -> None:
        """Add a (re)submission at the end of the queue; a resubmission needs a higher revision.

        materials: material_id -> (bytes, content type) for files new in this revision.
        """
        sid, rev = submission["submission_id"], int(submission["revision"])
        with self.store.tx() as db:
            top = db.execute("SELECT max(revision) FROM submissions WHERE submission_id = ?",
                             (sid,)).fetchone()[0]
            if top is not None and rev <= top:
                raise ValueError(f"submission {sid} already has revision {top}; a resubmission needs a higher one")
            self._insert(db, submission)
            for mid, (data, ctype) in (materials or {}).items():
                path = self.files_dir / sid / mid
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                db.execute("INSERT OR REPLACE INTO materials VALUES (?, ?, ?, ?)", (sid, mid, str(path), ctype))

    def _admin_add(self, req: Request) -> Response:
        """`{"submission": {...}, "materials": [{"material_id", "content_type", "content_base64"}]}`"""
        doc = req.json()
        if not isinstance(doc, dict) or not isinstance(doc.get("submission"), dict):
            raise HttpError(400, "bad_request", 'expected {"submission": {...}, "materials": [...]}')
        try:
            files = {m["material_id"]: (base64.b64decode(m["content_base64"]),
                                        m.get("content_type") or "application/octet-stream")
                     for m in doc.get("materials") or []}
            self.add_submission(doc["submission"], files)
        except (KeyError, TypeError, ValueError) as exc:
            raise HttpError(422, "bad_submission", str(exc)) from None
        return Response(201, {"submission_id": doc["submission"]["submission_id"],
                              "revision": doc["submission"]["revision"]})

    # -- the contract -----------------------------------------------------------------
    def get_submissions(self, req: Request) -> Response:
        limit_s = req.arg("limit", "100")
        if not limit_s.isdigit() or not 1 <= int(limit_s) <= 500:
            raise HttpError(400, "bad_request", "limit must be an integer from 1 to 500")
        after = decode_cursor(cursor) if (cursor := req.arg("cursor")) else 0
        rows = self.store.query("SELECT seq, body FROM submissions WHERE seq > ? ORDER BY seq LIMIT ?",
                                (after, int(limit_s)))
        items = [json.loads(r["body"]) for r in rows]
        seqs = [r["seq"] for r in rows]
        d = req.decision
        if d is not None and d.duplicate_rate and items:
            items, seqs = _duplicate(items, seqs, d)
        # An empty page answers null ("no more for now"); the caller keeps its cursor.
        return Response(body={"items": items, "next_cursor": encode_cursor(seqs[-1]) if seqs else None})

    def get_material(self, req: Request) -> Response:
        rows = self.store.query("SELECT path, content_type FROM materials WHERE submission_id = ? "
                                "AND material_id = ?", (req.params["sid"], req.params["mid"]))
        if not rows or not Path(rows[0]["path"]).exists():
            raise HttpError(404, "not_found", "no such material for this submission")
        data = read_material(rows[0]["path"])
        ctype = rows[0]["content_type"] or mimetypes.guess_type(rows[0]["path"])[0] or "application/octet-stream"
        return Response(body=data, content_type=ctype,
                        headers={"X-Content-SHA256": hashlib.sha256(data).hexdigest()})

    def post_return(self, req: Request) -> Response:
        doc = _object(req)
        _need(doc, revision=int, stage=str, idempotency_key=str)
        reasons = doc.get("reasons")
        if not isinstance(reasons, list) or not reasons or not all(
                isinstance(r, dict) and isinstance(r.get("code"), str) and isinstance(r.get("message"), str)
                for r in reasons):
            raise HttpError(422, "invalid_field", "reasons must be a non-empty list of {code, message}")
        sid = req.params["sid"]
        with self.store.tx() as db:
            hit = db.execute("SELECT return_id FROM returns WHERE idempotency_key = ?",
                             (doc["idempotency_key"],)).fetchone()
            if hit:
                return Response(200, {"return_id": hit[0]})
            sub = db.execute("SELECT phone FROM submissions WHERE submission_id = ? AND revision = ?",
                             (sid, doc["revision"])).fetchone()
            if sub is None:
                known = db.execute("SELECT 1 FROM submissions WHERE submission_id = ?", (sid,)).fetchone()
                if not known:
                    raise HttpError(404, "not_found", f"no submission {sid}")
                raise HttpError(422, "unknown_revision", f"submission {sid} has no revision {doc['revision']}")
            n = db.execute("SELECT coalesce(max(rowid), 0) FROM returns").fetchone()[0] + 1
            rid, now = f"RET{n:08d}", self._now()
            db.execute("INSERT INTO returns VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (rid, doc["idempotency_key"], sid, doc["revision"], doc["stage"], dumps(doc), now))
            text = f"您的职称申报（{sid}）已被退回修改：" + "；".join(r["message"] for r in reasons)
            db.execute("INSERT INTO sms (kind, ref_id, phone, text, sent_at) VALUES (?, ?, ?, ?, ?)",
                       ("return", rid, sub[0], text, now))
        return Response(201, {"return_id": rid})

    def post_notification(self, req: Request) -> Response:
        doc = _object(req)
        _need(doc, id_number=str, template=str, idempotency_key=str)
        if doc["template"] not in TEMPLATES:
            raise HttpError(422, "unknown_template", f"template must be one of {', '.join(TEMPLATES)}")
        params = doc.get("params", {})
        if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
            raise HttpError(422, "invalid_field", "params must be an object of strings")
        with self.store.tx() as db:
            hit = db.execute("SELECT notification_id FROM notifications WHERE idempotency_key = ?",
                             (doc["idempotency_key"],)).fetchone()
            if hit:
                return Response(200, {"notification_id": hit[0]})
            # the count, rows never being deleted: count(*) reads the whole table, which at
            # 200,000 notices no longer fits SQLite's page cache (0.6 ms a notice, not 0.06)
            n = db.execute("SELECT coalesce(max(rowid), 0) FROM notifications").fetchone()[0] + 1
            nid, now = f"NTF{n:08d}", self._now()
            db.execute("INSERT INTO notifications VALUES (?, ?, ?, ?, ?, ?)",
                       (nid, doc["idempotency_key"], doc["id_number"], doc["template"], dumps(doc), now))
            phone = db.execute("SELECT phone FROM submissions WHERE id_number = ? ORDER BY seq DESC LIMIT 1",
                               (doc["id_number"],)).fetchone()
            text = f"职称申报通知（{doc['template']}）：" + "，".join(f"{k}={v}" for k, v in params.items())
            db.execute("INSERT INTO sms (kind, ref_id, phone, text, sent_at) VALUES (?, ?, ?, ?, ?)",
                       ("notification", nid, phone[0] if phone else None, text, now))
        return Response(202, {"notification_id": nid})

    # -- the extension: cancellations (docs/lifecycle.md) -----------------------------
    def cancel(self, submission_id: str, *, reason: str = "本人申请取消", requested_at: str | None = None) -> str:
        """An applicant cancels (取消申请) in the hall; returns the cancellation_id."""
        with self.store.tx() as db:
            n = db.execute("SELECT coalesce(max(seq), 0) FROM cancellations").fetchone()[0] + 1
            cid = f"CAN{n:08d}"
            db.execute("INSERT INTO cancellations (cancellation_id, submission_id, requested_at, reason) "
                       "VALUES (?, ?, ?, ?)", (cid, submission_id, requested_at or self._now(), reason))
        return cid

    def get_cancellations(self, req: Request) -> Response:
        limit_s = req.arg("limit", "100")
        if not limit_s.isdigit() or not 1 <= int(limit_s) <= 500:
            raise HttpError(400, "bad_request", "limit must be an integer from 1 to 500")
        after = decode_cursor(cursor) if (cursor := req.arg("cursor")) else 0
        rows = self.store.query("SELECT seq, cancellation_id, submission_id, requested_at, reason "
                                "FROM cancellations WHERE seq > ? ORDER BY seq LIMIT ?", (after, int(limit_s)))
        items = [{k: r[k] for k in ("cancellation_id", "submission_id", "requested_at", "reason")} for r in rows]
        return Response(body={"items": items, "next_cursor": encode_cursor(rows[-1]["seq"]) if rows else None})

    def post_cancellation_answer(self, req: Request) -> Response:
        doc = _object(req)
        _need(doc, idempotency_key=str)
        if not isinstance(doc.get("accepted"), bool):
            raise HttpError(422, "invalid_field", "accepted must be true or false")
        reasons = doc.get("reasons") or []
        if not isinstance(reasons, list) or (not doc["accepted"] and not reasons):
            raise HttpError(422, "invalid_field", "a refusal needs reasons [{code, message}]")
        cid = req.params["cid"]
        with self.store.tx() as db:
            hit = db.execute("SELECT cancellation_id FROM cancellation_answers WHERE idempotency_key = ?",
                             (doc["idempotency_key"],)).fetchone()
            if hit:
                return Response(200, {"answer_id": hit[0]})
            row = db.execute("SELECT submission_id FROM cancellations WHERE cancellation_id = ?", (cid,)).fetchone()
            if row is None:
                raise HttpError(404, "not_found", f"no cancellation {cid}")
            if db.execute("SELECT 1 FROM cancellation_answers WHERE cancellation_id = ?", (cid,)).fetchone():
                raise HttpError(409, "already_answered", f"cancellation {cid} has another answer")
            now = self._now()
            db.execute("INSERT INTO cancellation_answers VALUES (?, ?, ?, ?)",
                       (cid, doc["idempotency_key"], dumps(doc), now))
            phone = db.execute("SELECT phone FROM submissions WHERE submission_id = ? ORDER BY seq DESC LIMIT 1",
                               (row[0],)).fetchone()
            text = (f"您的职称申报（{row[0]}）已取消。" if doc["accepted"] else
                    f"您的职称申报（{row[0]}）不能取消：" + "；".join(str(r.get("message")) for r in reasons))
            db.execute("INSERT INTO sms (kind, ref_id, phone, text, sent_at) VALUES (?, ?, ?, ?, ?)",
                       ("cancellation", cid, phone[0] if phone else None, text, now))
        return Response(201, {"answer_id": cid})

    def cancellation_answers(self) -> dict[str, dict]:
        return {r["cancellation_id"]: json.loads(r["body"])
                for r in self.store.query("SELECT * FROM cancellation_answers ORDER BY cancellation_id")}

    # -- what tests read --------------------------------------------------------------
    def returns(self) -> list[dict]:
        return [{"return_id": r["return_id"], "submission_id": r["submission_id"], **json.loads(r["body"]),
                 "received_at": r["received_at"]}
                for r in self.store.query("SELECT * FROM returns ORDER BY return_id")]

    def notifications(self) -> list[dict]:
        return [{"notification_id": r["notification_id"], **json.loads(r["body"]),
                 "received_at": r["received_at"]}
                for r in self.store.query("SELECT * FROM notifications ORDER BY notification_id")]

    def sms(self) -> list[dict]:
        return [dict(r) for r in self.store.query("SELECT * FROM sms ORDER BY seq")]

    @property
    def sms_sent(self) -> int:
        return self.store.query("SELECT count(*) AS n FROM sms")[0]["n"]

    def submission_count(self) -> int:
        return self.store.query("SELECT count(*) AS n FROM submissions")[0]["n"]

    def _now(self) -> str:
        return dt.datetime.fromtimestamp(self.clock(), dt.timezone(dt.timedelta(hours=8))).isoformat(
            timespec="seconds")


def _duplicate(items: list, seqs: list, d: Any) -> tuple[list, list]:
    """At-least-once delivery: repeat some items on the page and sometimes rewind the cursor."""
    out, out_seqs = [], []
    for item, seq in zip(items, seqs, strict=True):
        out.append(item)
        out_seqs.append(seq)
        if d.rng.random() < d.duplicate_rate:
            out.append(item)
            out_seqs.append(seq)
    if len(seqs) > 1 and d.rng.random() < d.duplicate_rate:
        out_seqs.append(seqs[-2])  # the next page starts again with this page's last item
    return out, out_seqs


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _object(req: Request) -> dict:
    doc = req.json()
    if not isinstance(doc, dict):
        raise HttpError(400, "bad_request", "the body must be a JSON object")
    return doc


def _need(doc: dict, **types: type) -> None:
    for name, typ in types.items():
        value = doc.get(name)
        if not isinstance(value, typ) or isinstance(value, bool) or value == "":
            raise HttpError(422, "invalid_field", f"{name} must be a non-empty {typ.__name__}")
