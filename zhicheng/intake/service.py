"""Intake: take in what applicants submitted in the hall, exactly once in effect.

One page at a time from the stored cursor: the page's files are downloaded first
(content-addressed by SHA-256, written atomically, so a crash leaves at most an
unreferenced file that the next run reuses), then the page's submissions and the new
cursor are committed in one transaction. The hall delivers at least once; a
(submission_id, revision) already stored is a duplicate and changes nothing, a higher
revision supersedes the current one and keeps the history.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhicheng.config import Config
from zhicheng.connectors.hall import TooLarge
from zhicheng.db.batches import in_pages
from zhicheng.db.engine import unit_of_work
from zhicheng.domain.application_status import ApplicationStatus
from zhicheng.db.models import (Applicant, Application, ApplicationRevision, Employer, Finding,
                                Material, SyncCursor)
from zhicheng.domain.findings import Finding as RuleFinding
from zhicheng.domain.material_checks import Declared, Limits, beyond_cap_finding, download_cap
from zhicheng.domain.submission import contract_problems, key_of
from zhicheng.outbox import enqueue
from zhicheng.private_files import TMP_SUFFIX, write_atomic

CURSOR = "hall.submissions"
# A resubmission is taken up only where the applicant is the one to act.
RESUBMITTABLE = frozenset({ApplicationStatus.RECEIVED, ApplicationStatus.INVALID, ApplicationStatus.RETURNED,
                           ApplicationStatus.VALIDATED})
DOWNLOADS_IN_FLIGHT = 4   # files fetched at once by one process


FileKey = tuple[str, str]   # (submission_id, material_id)


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    content_type: str | None
    storage_path: str          # relative to the workspace


Fetched = StoredFile | TooLarge | None   # None: the hall does not have it (404)


@dataclass
class PageResult:
    received: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    files: int = 0
    bytes: int = 0
    next_cursor: str | None = None

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


def material_path(sha256: str) -> str:
    return f"materials/{sha256[:2]}/{sha256}"


def remove_partial_files(files_root: Path) -> int:
    """Delete the temporary files of downloads a killed run never renamed into place.

    Call it under the intake lock: one intake runs at a time, so every temporary file
    under materials/ is a dead run's. Finished (renamed) files are never touched; an
    unreferenced finished file is reused by the re-run, which fetches the same page."""
    root = files_root / "materials"
    stale = list(root.glob(f"*/*{TMP_SUFFIX}")) if root.is_dir() else []
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)


def current_cursor(*, session: Session) -> str | None:
    row = session.get(SyncCursor, CURSOR)
    return row.cursor if row else None


def pull_page(*, sessions: Any, hall: Any, config: Config, files_root: Path, now: dt.datetime,
              limit: int, fetch: Callable[[Mapping[FileKey, int]], dict[FileKey, Fetched]] | None = None
              ) -> PageResult:
    """Take in one page after the stored cursor; `next_cursor` None: nothing more for now.

    The page's missing files come first, each read up to its cap (download_cap), through
    `fetch` (zhicheng.intake.downloads.Downloader: worker processes) or, without one, from `hall`
    in this process. The hall's outage propagates: nothing of the page is stored and the
    cursor stays."""
    with sessions() as s:
        cursor = current_cursor(session=s)
    page = hall.submissions(cursor, limit)
    result = PageResult(received=len(page.items), next_cursor=page.next_cursor)
    with sessions() as s:
        files: dict[FileKey, Fetched] = dict(wanted(session=s, items=page.items, files_root=files_root))
    caps = download_caps(page.items, Limits.from_policy(config.policy.materials))
    missing = {k: caps[k] for k, v in files.items() if v is None}
    files.update(fetch(missing) if fetch else fetch_here(hall, missing, files_root))
    stored = [f for f in files.values() if isinstance(f, StoredFile)]
    result.files = len({f.sha256 for f in stored})
    result.bytes = sum(f.size for f in stored)
    with unit_of_work(sessions) as s:
        index = PageIndex.load(session=s, items=page.items)
        for item in page.items:
            result.count(store_submission(session=s, item=item, files=files, config=config, now=now, index=index))
        if page.next_cursor is not None:
            row = s.get(SyncCursor, CURSOR) or SyncCursor(name=CURSOR)
            row.cursor, row.updated_at = page.next_cursor, now
            s.add(row)
    return result


def _materials(item: Any) -> list[Mapping[str, Any]]:
    mats = item.get("materials") if isinstance(item, Mapping) else None
    return [m for m in mats if isinstance(m, Mapping) and isinstance(m.get("material_id"), str)] \
        if isinstance(mats, list) else []


def wanted(*, session: Session, items: list[Any], files_root: Path) -> dict[FileKey, StoredFile | None]:
    """The files of a page: those already in the workspace (a resubmission keeps most of
    its files, a duplicate all of them) filled in; the rest None, to be downloaded."""
    declared = {(key[0], m["material_id"]): _sha(m.get("sha256")) for item in items
                if (key := key_of(item)) is not None for m in _materials(item)}
    known = _known(session=session, shas={sha for sha in declared.values() if sha}, files_root=files_root)
    return {k: known.get(sha) if sha else None for k, sha in declared.items()}


def _declared(m: Mapping[str, Any]) -> Declared:
    """A material as the submission declares it (ill-typed fields as unknown)."""
    return Declared(m["material_id"][:64], _text(m.get("type"), 32) or "", _text(m.get("file_name"), 255)
                    or m["material_id"][:64], m["size"] if type(m.get("size")) is int else None,
                    _text(m.get("sha256"), 64))


def download_caps(items: list[Any], limits: Limits) -> dict[FileKey, int]:
    """Bytes worth reading of each file of a page: its type's size limit, or its declared
    size when less (a 400 MiB "material" is refused after its first 500 KB)."""
    return {(key[0], m["material_id"]): download_cap(_declared(m), limits) for item in items
            if (key := key_of(item)) is not None for m in _materials(item)}


def _sha(v: Any) -> str | None:
    return v.lower() if isinstance(v, str) and len(v) == 64 else None


def _known(*, session: Session, shas: set[str], files_root: Path) -> dict[str, StoredFile]:
    """The files of these hashes already in the workspace (one query for the page)."""
    out: dict[str, StoredFile] = {}
    for page in in_pages(sorted(shas)):
        for sha, size, content_type, path in session.execute(
                select(Material.sha256, Material.size, Material.content_type, Material.storage_path)
                .where(Material.sha256.in_(page), Material.storage_path.is_not(None))):
            if sha not in out and (files_root / path).is_file():
                out[sha] = StoredFile(sha, size or 0, content_type, path)
    return out


def fetch_here(hall: Any, wants: Mapping[FileKey, int], files_root: Path,
               in_flight: int = DOWNLOADS_IN_FLIGHT) -> dict[FileKey, Fetched]:
    """Fetch in this process, `in_flight` at a time, each file up to its cap (bytes)."""
    with ThreadPoolExecutor(max_workers=max(1, in_flight), thread_name_prefix="hall-files") as pool:
        return dict(zip(wants, pool.map(lambda k: fetch_file(hall, k, files_root, wants[k]), wants), strict=True))


def fetch_file(hall: Any, key: FileKey, files_root: Path, cap: int) -> Fetched:
    """One file from the hall into the workspace (None: the hall does not have it, 404;
    TooLarge: it goes beyond `cap` bytes, and no more than that was read). Written under
    its SHA-256, atomically: an interrupted write leaves a temporary file."""
    got = hall.material(*key, max_bytes=cap)
    if got is None or isinstance(got, TooLarge):
        return got
    sha = hashlib.sha256(got.content).hexdigest()
    rel = material_path(sha)
    target = files_root / rel
    if not target.is_file():
        write_atomic(target, got.content)
    return StoredFile(sha, len(got.content), got.content_type, rel)


@dataclass
class PageIndex:
    """What storing a page's submissions looks up, loaded in a few queries for the page
    rather than several for each submission; kept current as the page is stored (the
    hall may deliver one submission twice in a page)."""
    apps: dict[str, Application]
    revisions: set[tuple[int, int]]
    applicants: dict[str, Applicant]
    employers: dict[str, Employer]

    @classmethod
    def load(cls, *, session: Session, items: list[Any]) -> PageIndex:
        def rows(query, column, values):
            return [r for page in in_pages(sorted(values)) for r in session.execute(query.where(column.in_(page)))]
        apps = {a.submission_id: a for (a,) in rows(select(Application), Application.submission_id,
                                                    {_identity(item)[2] for item in items})}
        revisions = rows(select(ApplicationRevision.application_id, ApplicationRevision.revision),
                         ApplicationRevision.application_id, {a.id for a in apps.values()})
        parties = [(_mapping(item, "applicant"), _mapping(item, "employer")) for item in items]
        return cls(apps, {(a, r) for a, r in revisions},
                   {r.id_number: r for (r,) in rows(select(Applicant), Applicant.id_number,
                                                     {a["id_number"] for a, _ in parties if _id_number(a)})},
                   {r.uscc: r for (r,) in rows(select(Employer), Employer.uscc,
                                               {e["uscc"] for _, e in parties if _uscc(e)})})


def _identity(item: Any) -> tuple[dict[str, Any], str, str, int]:
    """(payload, its digest, submission id, revision); a submission without sound keys is
    keyed by its digest, so a redelivery of it is a duplicate too."""
    payload = item if isinstance(item, dict) else {"_delivered": item}
    digest = hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str)
                            .encode()).hexdigest()
    sid, revision = key_of(item) or (f"invalid-{digest[:24]}", 1)
    return payload, digest, sid, revision


def store_submission(*, session: Session, item: Any, files: Mapping[FileKey, Fetched],
                     config: Config, now: dt.datetime, index: PageIndex | None = None) -> str:
    """Store one delivered submission; returns new | resubmission | duplicate | stale |
    held (a higher revision of an application that is not the applicant's to change) |
    invalid (new or resubmitted, breaking the contract). `index`: the page's lookups
    (PageIndex.load), loaded for this one submission when not given."""
    index = index or PageIndex.load(session=session, items=[item])
    payload, digest, sid, revision = _identity(item)
    app = index.apps.get(sid)
    if app is not None:
        if revision < app.current_revision or (app.id, revision) in index.revisions:
            return "duplicate" if revision == app.current_revision else "stale"
    problems = contract_problems(item)
    if app is None:
        app = index.apps[sid] = Application(submission_id=sid, current_revision=revision)
        session.add(app)
        outcome = "new"
    elif app.status in RESUBMITTABLE:
        outcome = "resubmission"
    else:
        session.add(ApplicationRevision(application_id=app.id, revision=revision, payload=payload,
                                        payload_sha256=digest, valid=not problems, received_at=now))
        index.revisions.add((app.id, revision))
        return "held"
    app.current_revision = revision
    _fill(app, payload, config, index)
    app.status = ApplicationStatus.INVALID if problems else ApplicationStatus.RECEIVED
    session.flush()   # the application's id, for the rows below
    index.revisions.add((app.id, revision))
    session.add(ApplicationRevision(application_id=app.id, revision=revision, payload=payload,
                                    payload_sha256=digest, valid=not problems, received_at=now))
    findings = _store_materials(session=session, app=app, revision=revision, p=payload, files=files,
                                config=config, now=now)
    findings += [config.findings.make("submission.invalid", field=p.split(":")[0], detail=p) for p in problems]
    _store_findings(session=session, app=app, revision=revision, findings=findings, now=now)
    if problems and key_of(item) is not None:
        _return_invalid(session=session, app=app, findings=findings, config=config, now=now)
    return "invalid" if problems else outcome


def _text(v: Any, size: int) -> str | None:
    return v[:size] if isinstance(v, str) and v else None


def _mapping(p: Any, key: str) -> Mapping[str, Any]:
    v = p.get(key) if isinstance(p, Mapping) else None
    return v if isinstance(v, Mapping) else {}


def _id_number(a: Mapping[str, Any]) -> bool:
    return isinstance(a.get("id_number"), str) and len(a["id_number"]) == 18


def _uscc(e: Mapping[str, Any]) -> bool:
    return isinstance(e.get("uscc"), str) and len(e["uscc"]) == 18


def _fill(app: Application, p: Mapping[str, Any], config: Config, index: PageIndex) -> None:
    """The application's columns from a (possibly ill-typed) payload: what is sound is kept."""
    declared, employer = _mapping(p, "declared"), _mapping(p, "employer")
    app.track = _text(p.get("track"), 8)
    app.batch_year = p["batch_year"] if type(p.get("batch_year")) is int else None
    app.level = _text(declared.get("level"), 8)
    app.series = _text(declared.get("series"), 32)
    app.specialty = _text(declared.get("specialty"), 64)
    app.qualification_name = _text(declared.get("qualification_name"), 64)
    app.reporting_level = _text(declared.get("reporting_level"), 8)
    app.region_code = _text(employer.get("region_code"), 6)
    app.employer_name = _text(employer.get("name"), 200)
    app.employer_nature = _text(employer.get("nature"), 16)
    app.employer_supervising_dept = _text(employer.get("supervising_dept"), 200)
    committee = declared.get("committee_id")
    app.committee_id = committee if isinstance(committee, str) and committee in config.committees else None
    try:
        app.submitted_at = dt.datetime.fromisoformat(p["submitted_at"])
    except (KeyError, TypeError, ValueError):
        app.submitted_at = None
    app.applicant = _applicant(_mapping(p, "applicant"), index)
    app.employer = _employer(employer, index)


def _applicant(a: Mapping[str, Any], index: PageIndex) -> Applicant | None:
    if not _id_number(a):
        return None
    row = index.applicants.get(a["id_number"])
    if row is None:
        row = index.applicants[a["id_number"]] = Applicant(id_number=a["id_number"], name="")
    row.name = _text(a.get("name"), 64) or row.name
    row.gender, row.phone, row.email = _text(a.get("gender"), 2), _text(a.get("phone"), 20), _text(a.get("email"), 128)
    return row


def _employer(e: Mapping[str, Any], index: PageIndex) -> Employer | None:
    if not _uscc(e):
        return None
    row = index.employers.get(e["uscc"])
    if row is None:
        row = index.employers[e["uscc"]] = Employer(uscc=e["uscc"], name="")
    row.name = _text(e.get("name"), 200) or row.name
    row.nature, row.region_code = _text(e.get("nature"), 16), _text(e.get("region_code"), 6)
    row.supervising_dept = _text(e.get("supervising_dept"), 200)
    return row


def _store_materials(*, session: Session, app: Application, revision: int, p: Mapping[str, Any],
                     files: Mapping[FileKey, Fetched], config: Config,
                     now: dt.datetime) -> list[RuleFinding]:
    findings, seen = [], set()
    for m in _materials(p):
        d = _declared(m)
        if d.material_id in seen:
            continue  # a material id twice in one submission: the first one counts
        seen.add(d.material_id)
        fetched = files.get((app.submission_id, m["material_id"]))
        got = fetched if isinstance(fetched, StoredFile) else None
        session.add(Material(
            application_id=app.id, revision=revision, material_id=d.material_id, type=d.type,
            file_name=d.file_name, declared_size=d.size, declared_sha256=d.sha256,
            size=got.size if got else fetched.length if isinstance(fetched, TooLarge) else None,
            sha256=got.sha256 if got else None, content_type=_text(got.content_type, 128) if got else None,
            storage_path=got.storage_path if got else None, fetched_at=now if got else None))
        if isinstance(fetched, TooLarge):   # refused at its cap: the size finding, nothing kept
            findings.append(beyond_cap_finding(d, fetched.length, fetched.limit,
                                               Limits.from_policy(config.policy.materials), config.findings))
        elif got is None:
            findings.append(config.findings.make("material.not_received", material_id=d.material_id,
                                                 file_name=d.file_name))
    return findings


def _store_findings(*, session: Session, app: Application, revision: int, findings: list[RuleFinding],
                    now: dt.datetime) -> None:
    seen = set()
    for f in findings:
        if f.fingerprint in seen:
            continue
        seen.add(f.fingerprint)
        session.add(Finding(application_id=app.id, revision=revision, source="intake", code=f.code,
                            severity=f.severity, field=f.field, material_id=f.material_id, message=f.message,
                            params={k: str(v) for k, v in f.params.items()}, fingerprint=f.fingerprint,
                            created_at=now))


def submission_stage(app: Application, config: Config) -> str:
    """The first stage of the application's chain (评审申报, 初定申报, ...)."""
    stages = config.chains.tracks.get(app.track or "")
    return stages[0] if stages else "评审申报"


def _return_invalid(*, session: Session, app: Application, findings: list[RuleFinding], config: Config,
                    now: dt.datetime) -> None:
    stage = submission_stage(app, config)
    key = f"return:{app.submission_id}:r{app.current_revision}:{stage}"
    reasons = [{"code": f.code, "message": f.message} for f in findings if f.severity == "error"]
    enqueue(session=session, target="hall_return", kind="return", dedupe_key=key, now=now,
            payload={"submission_id": app.submission_id, "revision": app.current_revision, "stage": stage,
                     "reasons": reasons, "idempotency_key": key})
