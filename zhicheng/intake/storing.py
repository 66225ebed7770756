"""Storing a page of the hall's submissions in a few set-based statements.

Each delivered item is first taken in memory, in the hall's order (`Page.take`), so
what an earlier item of the same page stored counts: a repeat is a duplicate, a next
revision supersedes, one applicant row serves both. Then the page is written table by
table (`Page.write`): applicants and employers upserted (`upsert`: one ON CONFLICT
statement for each, on SQLite and PostgreSQL alike), the new applications inserted and
the others updated, their revisions, materials and findings inserted, the returns of
invalid ones queued in the outbox. About thirteen ORM objects a submission, flushed one
submission at a time (31 statements for 2 submissions, 385 for 18; now 7 for either), were
most of the CPU intake's own code spent in the flow's process (of its 1.8 s at 1,000
applications on SQLite; 0.6 s now). The caller's
transaction holds the whole page: it is stored whole or not at all.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from zhicheng.config import Config
from zhicheng.connectors.hall import TooLarge
from zhicheng.db.batches import in_pages, insert_rows
from zhicheng.db.models import Applicant, Application, ApplicationRevision, Employer, Finding, Material
from zhicheng.domain.application_status import ApplicationStatus
from zhicheng.domain.findings import Finding as RuleFinding
from zhicheng.domain.material_checks import Declared, Limits, beyond_cap_finding
from zhicheng.domain.submission import contract_problems, key_of
from zhicheng.intake.files import Fetched, FileKey, StoredFile
from zhicheng.outbox import enqueue_many

# A resubmission is taken up only where the applicant is the one to act.
RESUBMITTABLE = frozenset({ApplicationStatus.RECEIVED, ApplicationStatus.INVALID, ApplicationStatus.RETURNED,
                           ApplicationStatus.VALIDATED})
APPLICATIONS = cast(Table, Application.__table__)


@dataclass(frozen=True)
class Party:
    """Applicants and employers: one row a key (ID number, USCC), holding the latest
    submission's words; a blank name leaves the stored one."""
    table: Table
    key: str
    columns: tuple[tuple[str, int], ...]   # (column, its size), the payload's field of that name

    def row(self, given: Mapping[str, Any]) -> dict[str, Any] | None:
        """The row a payload's applicant or employer gives, or None without a sound key."""
        key = given.get(self.key)
        if not (isinstance(key, str) and len(key) == 18):
            return None
        row = {self.key: key, **{c: _text(given.get(c), size) for c, size in self.columns}}
        row["name"] = row["name"] or ""
        return row


APPLICANT = Party(cast(Table, Applicant.__table__), "id_number",
                  (("name", 64), ("gender", 2), ("phone", 20), ("email", 128)))
EMPLOYER = Party(cast(Table, Employer.__table__), "uscc",
                 (("name", 200), ("nature", 16), ("region_code", 6), ("supervising_dept", 200)))


def upsert(*, session: Session, party: Party, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert the rows, or update the row already there with the same key, in one
    statement (a batch of them for many rows); the rows' ids by key. The rows' keys
    must differ (PostgreSQL refuses to update one row twice in a statement)."""
    if not rows:
        return {}
    table = party.table
    ins = (pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(table)
    new = ins.excluded
    changes = {c: new[c] for c, _ in party.columns} | {"name": case((new.name != "", new.name), else_=table.c.name)}
    statement = ins.on_conflict_do_update(index_elements=[table.c[party.key]], set_=changes)
    return {key: id_ for key, id_ in session.execute(statement.returning(table.c[party.key], table.c.id), rows)}


@dataclass
class Stored:
    """An application as the page leaves it."""
    submission_id: str
    current_revision: int
    status: str
    track: str | None
    id: int | None = None                    # None: new in this page, inserted by the write
    columns: dict[str, Any] | None = None    # set where this page stores one of its revisions
    parties: dict[str, str | None] = field(default_factory=dict)   # applicant_id/employer_id: the key


@dataclass
class Page:
    """What a page stores: taken item by item, written together."""
    config: Config
    now: dt.datetime
    files: Mapping[FileKey, Fetched]
    apps: dict[str, Stored]
    revisions: set[tuple[str, int]]          # (submission id, revision) already stored
    parties: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {"applicant_id": {}, "employer_id": {}})
    rows: dict[str, list[tuple[str, dict[str, Any]]]] = field(
        default_factory=lambda: {"revisions": [], "materials": [], "findings": []})
    returns: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, *, session: Session, items: list[Any], files: Mapping[FileKey, Fetched], config: Config,
             now: dt.datetime) -> Page:
        """The page's applications and their revisions already stored, in a few queries."""
        sids = sorted({_identity(item)[2] for item in items})
        rows = [r for part in in_pages(sids) for r in session.execute(
            select(Application.id, Application.submission_id, Application.current_revision, Application.status,
                   Application.track).where(Application.submission_id.in_(part)))]
        apps = {r.submission_id: Stored(r.submission_id, r.current_revision, r.status, r.track, r.id) for r in rows}
        by_id = {r.id: r.submission_id for r in rows}
        revisions = {(by_id[a], r) for part in in_pages(sorted(by_id)) for a, r in session.execute(
            select(ApplicationRevision.application_id, ApplicationRevision.revision)
            .where(ApplicationRevision.application_id.in_(part)))}
        return cls(config, now, files, apps, revisions)

    def take(self, item: Any) -> str:
        """One delivered submission; returns new | resubmission | duplicate | stale | held
        (a higher revision of an application that is not the applicant's to change) |
        invalid (new or resubmitted, breaking the contract)."""
        payload, digest, sid, revision = _identity(item)
        app = self.apps.get(sid)
        if app is not None and (revision < app.current_revision or (sid, revision) in self.revisions):
            return "duplicate" if revision == app.current_revision else "stale"
        problems = contract_problems(item)
        self.revisions.add((sid, revision))
        self.rows["revisions"].append((sid, {"revision": revision, "payload": payload, "payload_sha256": digest,
                                             "valid": not problems, "received_at": self.now}))
        if app is None:
            app = self.apps[sid] = Stored(sid, revision, ApplicationStatus.RECEIVED, None)
            outcome = "new"
        elif app.status in RESUBMITTABLE:
            outcome = "resubmission"
        else:
            return "held"
        app.current_revision, app.columns = revision, _columns(payload, self.config)
        app.track = app.columns["track"]
        app.status = ApplicationStatus.INVALID if problems else ApplicationStatus.RECEIVED
        app.parties = {"applicant_id": self._party(APPLICANT, _mapping(payload, "applicant"), "applicant_id"),
                       "employer_id": self._party(EMPLOYER, _mapping(payload, "employer"), "employer_id")}
        findings = self._materials(sid, revision, payload)
        findings += [self.config.findings.make("submission.invalid", field=p.split(":")[0], detail=p)
                     for p in problems]
        self._findings(sid, revision, findings)
        if problems and key_of(item) is not None:
            self._return(app, findings)
        return "invalid" if problems else outcome

    def _party(self, party: Party, given: Mapping[str, Any], column: str) -> str | None:
        row = party.row(given)
        if row is None:
            return None
        rows, key = self.parties[column], row[party.key]
        row["name"] = row["name"] or (rows[key]["name"] if key in rows else "")
        rows[key] = row
        return key

    def _materials(self, sid: str, revision: int, p: Mapping[str, Any]) -> list[RuleFinding]:
        findings, seen = [], set()
        for m in materials_of(p):
            d = declared(m)
            if d.material_id in seen:
                continue  # a material id twice in one submission: the first one counts
            seen.add(d.material_id)
            fetched = self.files.get((sid, m["material_id"]))
            got = fetched if isinstance(fetched, StoredFile) else None
            self.rows["materials"].append((sid, {
                "revision": revision, "material_id": d.material_id, "type": d.type, "file_name": d.file_name,
                "declared_size": d.size, "declared_sha256": d.sha256,
                "size": got.size if got else fetched.length if isinstance(fetched, TooLarge) else None,
                "sha256": got.sha256 if got else None,
                "content_type": _text(got.content_type, 128) if got else None,
                "storage_path": got.storage_path if got else None, "fetched_at": self.now if got else None}))
            if isinstance(fetched, TooLarge):   # refused at its cap: the size finding, nothing kept
                findings.append(beyond_cap_finding(d, fetched.length, fetched.limit,
                                                   Limits.from_policy(self.config.policy.materials),
                                                   self.config.findings))
            elif got is None:
                findings.append(self.config.findings.make("material.not_received", material_id=d.material_id,
                                                          file_name=d.file_name))
        return findings

    def _findings(self, sid: str, revision: int, findings: list[RuleFinding]) -> None:
        seen = set()
        for f in findings:
            if f.fingerprint not in seen:
                seen.add(f.fingerprint)
                self.rows["findings"].append((sid, {
                    "revision": revision, "source": "intake", "code": f.code, "severity": f.severity,
                    "field": f.field, "material_id": f.material_id, "message": f.message,
                    "params": {k: str(v) for k, v in f.params.items()}, "fingerprint": f.fingerprint,
                    "created_at": self.now}))

    def _return(self, app: Stored, findings: list[RuleFinding]) -> None:
        stage = submission_stage(app, self.config)
        key = f"return:{app.submission_id}:r{app.current_revision}:{stage}"
        reasons = [{"code": f.code, "message": f.message} for f in findings if f.severity == "error"]
        self.returns.append({"target": "hall_return", "kind": "return", "dedupe_key": key, "payload": {
            "submission_id": app.submission_id, "revision": app.current_revision, "stage": stage,
            "reasons": reasons, "idempotency_key": key}})

    def write(self, *, session: Session) -> None:
        """Everything taken, in a few statements a table."""
        ids = {"applicant_id": upsert(session=session, party=APPLICANT,
                                      rows=list(self.parties["applicant_id"].values())),
               "employer_id": upsert(session=session, party=EMPLOYER, rows=list(self.parties["employer_id"].values()))}
        stored = [a for a in self.apps.values() if a.columns is not None]
        known = [a for a in stored if a.id is not None]
        new = [a for a in stored if a.id is None]

        def row(a: Stored) -> dict[str, Any]:
            return {**cast(dict, a.columns), "current_revision": a.current_revision, "status": a.status,
                    **{column: ids[column][key] if key else None for column, key in a.parties.items()}}

        if new:
            for sid, id_ in session.execute(insert(APPLICATIONS).returning(APPLICATIONS.c.submission_id,
                                                                           APPLICATIONS.c.id),
                                            [{"submission_id": a.submission_id, **row(a)} for a in new]):
                self.apps[sid].id = id_
        if known:
            session.execute(update(APPLICATIONS).where(APPLICATIONS.c.id == bindparam("application")),
                            [{"application": a.id, **row(a)} for a in known])
        for name, model in (("revisions", ApplicationRevision), ("materials", Material), ("findings", Finding)):
            insert_rows(session=session, model=model,
                        rows=[{"application_id": self.apps[sid].id, **r} for sid, r in self.rows[name]])
        if self.returns:
            enqueue_many(session=session, items=self.returns, now=self.now)


def store_submission(*, session: Session, item: Any, files: Mapping[FileKey, Fetched], config: Config,
                     now: dt.datetime) -> str:
    """One delivered submission stored as a page of its own (store_page)."""
    return store_page(session=session, items=[item], files=files, config=config, now=now)[0]


def store_page(*, session: Session, items: list[Any], files: Mapping[FileKey, Fetched], config: Config,
               now: dt.datetime) -> list[str]:
    """Store a page of delivered submissions in the session's transaction; their
    outcomes, in order (Page.take)."""
    page = Page.load(session=session, items=items, files=files, config=config, now=now)
    outcomes = [page.take(item) for item in items]
    page.write(session=session)
    return outcomes


def submission_stage(app: Any, config: Config) -> str:
    """The first stage of the application's chain (评审申报, 初定申报, ...)."""
    stages = config.chains.tracks.get(app.track or "")
    return stages[0] if stages else "评审申报"


def _identity(item: Any) -> tuple[dict[str, Any], str, str, int]:
    """(payload, its digest, submission id, revision); a submission without sound keys is
    keyed by its digest, so a redelivery of it is a duplicate too."""
    payload = item if isinstance(item, dict) else {"_delivered": item}
    digest = hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str)
                            .encode()).hexdigest()
    sid, revision = key_of(item) or (f"invalid-{digest[:24]}", 1)
    return payload, digest, sid, revision


def _columns(p: Mapping[str, Any], config: Config) -> dict[str, Any]:
    """The application's columns from a (possibly ill-typed) payload: what is sound is kept."""
    declared_, employer = _mapping(p, "declared"), _mapping(p, "employer")
    committee = declared_.get("committee_id")
    try:
        submitted_at = dt.datetime.fromisoformat(p["submitted_at"])
    except (KeyError, TypeError, ValueError):
        submitted_at = None
    return {"track": _text(p.get("track"), 8),
            "batch_year": p["batch_year"] if type(p.get("batch_year")) is int else None,
            "level": _text(declared_.get("level"), 8), "series": _text(declared_.get("series"), 32),
            "specialty": _text(declared_.get("specialty"), 64),
            "qualification_name": _text(declared_.get("qualification_name"), 64),
            "reporting_level": _text(declared_.get("reporting_level"), 8),
            "region_code": _text(employer.get("region_code"), 6), "employer_name": _text(employer.get("name"), 200),
            "employer_nature": _text(employer.get("nature"), 16),
            "employer_supervising_dept": _text(employer.get("supervising_dept"), 200),
            "committee_id": committee if isinstance(committee, str) and committee in config.committees else None,
            "submitted_at": submitted_at}


def materials_of(item: Any) -> list[Mapping[str, Any]]:
    mats = item.get("materials") if isinstance(item, Mapping) else None
    return [m for m in mats if isinstance(m, Mapping) and isinstance(m.get("material_id"), str)] \
        if isinstance(mats, list) else []


def declared(m: Mapping[str, Any]) -> Declared:
    """A material as the submission declares it (ill-typed fields as unknown)."""
    return Declared(m["material_id"][:64], _text(m.get("type"), 32) or "", _text(m.get("file_name"), 255)
                    or m["material_id"][:64], m["size"] if type(m.get("size")) is int else None,
                    _text(m.get("sha256"), 64))


def _text(v: Any, size: int) -> str | None:
    return v[:size] if isinstance(v, str) and v else None


def _mapping(p: Any, key: str) -> Mapping[str, Any]:
    v = p.get(key) if isinstance(p, Mapping) else None
    return v if isinstance(v, Mapping) else {}
