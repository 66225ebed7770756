"""Validation of received applications: every rule of rules.md "Materials" and
"Identity and organisation checks", before any human spends time on them.

A chunk goes in three steps, so that no transaction is held while files are read:
`plan` loads the applications into plain `Work`; the inspector
(zhicheng.files.pdf_inspect, a limited worker subprocess) looks at every stored
file; `apply` runs the pure rules (zhicheng.domain.submission_checks and
material_checks), stores the findings (source "validation", replacing that revision's
earlier ones) and moves each application on, all in one transaction per chunk:

- errors (its own, intake's and the 学信 education check's for the same revision):
  status "returned" and one return to the hall in the outbox (dedupe key
  return:<submission_id>:r<rev>:<stage>, so a re-run never sends a second SMS);
- no errors: on its review chain (zhicheng.review.service.enter_many, a chunk at
  once), or "validated" where no chain fits its route. Warnings stay for reviewers.

The 学信 check (rules.md "Materials": the 学信 report and the declared education) is
part of the verdict: an application whose current revision declares education or
uploads a 学信 report waits, still "received", until zhicheng.education.service has a
definite answer for that revision, so that every error the applicant can fix reaches
them in one return, and a 学信 outage never returns anyone.

Only applications still "received" are touched, so a re-run redoes exactly the
chunks that did not commit.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, exists, or_, select
from sqlalchemy.orm import Session

from zhicheng import outbox
from zhicheng.clock import local_date
from zhicheng.db.batches import in_pages
from zhicheng.db.models import Application, ApplicationRevision, Finding, Material
from zhicheng.domain import lineage
from zhicheng.domain.application_status import ApplicationStatus
from zhicheng.domain import submission_checks as rules
from zhicheng.domain.findings import Finding as RuleFinding
from zhicheng.domain.material_checks import Declared, Inspection, Limits, file_findings
from zhicheng.domain.review import IllegalMove
from zhicheng.education.models import EducationCheck
from zhicheng.education.service import without_answer
from zhicheng.files.pdf_inspect import InspectLimits, Inspector, pooled
from zhicheng.issuance import lifecycle

log = logging.getLogger(__name__)
SOURCE = "validation"
# sources whose errors return an application: intake's contract checks, ours, 学信's
RETURNING = ("intake", SOURCE, "chsi")
# 学信 outcomes that are no answer yet: the education sync asks again, validation waits
CHSI_UNSETTLED = ("unavailable",)
# statuses in which an application still occupies its applicant's 初定/评审 slot of the year
ACTIVE = (ApplicationStatus.RECEIVED, ApplicationStatus.VALIDATED, ApplicationStatus.RETURNED,
          ApplicationStatus.IN_REVIEW, ApplicationStatus.APPROVED)
NEVER = dt.datetime.max.replace(tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class MaterialWork:
    declared: Declared
    path: Path | None          # None: intake has no file (its own finding says so)


@dataclass
class Work:
    application_id: int
    submission_id: str
    revision: int
    applicant_id: int | None
    payload: dict[str, Any]
    materials: list[MaterialWork] = field(default_factory=list)
    declared_at: str | None = None   # a resubmission's first submission (revision 1)

    @property
    def needs_chsi(self) -> bool:
        """Declared education or an uploaded 学信 report: 学信 must answer first (初定 and
        评审: the forms of 补办, 换发 and 历史登记 do not ask for education)."""
        if self.payload.get("track") in lineage.LOOKUP_TRACKS:
            return False
        return bool(education_entries(self.payload)) or any(m.declared.type == "chsi_report"
                                                             for m in self.materials)


@dataclass(frozen=True)
class Rules:
    """Everything of config the rules need, built once per chunk."""

    policy: rules.Policy
    limits: Limits
    config: Any

    @classmethod
    def from_config(cls, config: Any) -> Rules:
        return cls(rules.Policy.from_config(config.policy, config.materials),
                   Limits.from_policy(config.policy.materials), config)


def pending(*, session: Session, limit: int | None = None) -> list[int]:
    """Received applications, oldest first: the ones validation has not finished."""
    q = select(Application.id).where(Application.status == ApplicationStatus.RECEIVED).order_by(Application.id)
    return list(session.scalars(q.limit(limit) if limit else q))


def education_entries(payload: dict[str, Any]) -> list[dict]:
    """The entries the education sync checks (the same reading as its own)."""
    entries = payload.get("education")
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def chsi_unsettled(*, session: Session, works: list[Work]) -> set[int]:
    """The applications of `works` that need 学信 and have no definite answer for their
    revision yet: the education sync has stored no checks for it, or one still waits
    for 学信. (A report whose file intake could not fetch is `pending_file`: intake's
    own error returns the application.)"""
    needing = {w.application_id: w.revision for w in works if w.needs_chsi}
    return without_answer(session=session, revisions=needing, waiting=CHSI_UNSETTLED)


def awaiting_chsi(*, session: Session, application_ids: list[int], files_root: Path) -> list[int]:
    """Of these received applications, the ones whose verdict waits for 学信."""
    checks = select(EducationCheck.id).where(EducationCheck.application_id == Application.id,
                                             EducationCheck.revision == Application.current_revision)
    unsettled = checks.where(EducationCheck.outcome.in_(CHSI_UNSETTLED))
    out = []
    for ids in in_pages(application_ids):
        open_ = list(session.scalars(select(Application.id).where(
            Application.id.in_(ids), or_(~exists(checks), exists(unsettled)))))
        works = plan(session=session, application_ids=open_, files_root=files_root)
        out += sorted(chsi_unsettled(session=session, works=works))
    return out


def plan(*, session: Session, application_ids: list[int], files_root: Path) -> list[Work]:
    """The applications still received, with their current revision's Submission and
    materials (three queries a chunk, not three an application)."""
    current = (Application.id.in_(application_ids), Application.status == ApplicationStatus.RECEIVED)
    works = {app.id: Work(app.id, app.submission_id, app.current_revision, app.applicant_id, {})
             for app in session.scalars(select(Application).where(*current).order_by(Application.id))}
    for app_id, payload in session.execute(
            select(ApplicationRevision.application_id, ApplicationRevision.payload)
            .join(Application, (Application.id == ApplicationRevision.application_id)
                  & (Application.current_revision == ApplicationRevision.revision)).where(*current)):
        works[app_id].payload = payload or {}
    resubmitted = [w.application_id for w in works.values() if w.revision > 1]
    if resubmitted:
        for app_id, payload in session.execute(
                select(ApplicationRevision.application_id, ApplicationRevision.payload)
                .where(ApplicationRevision.application_id.in_(resubmitted), ApplicationRevision.revision == 1)):
            works[app_id].declared_at = (payload or {}).get("submitted_at")
    for m in session.scalars(select(Material).join(
            Application, (Application.id == Material.application_id)
            & (Application.current_revision == Material.revision)).where(*current)
            .order_by(Material.application_id, Material.material_id)):
        declared = Declared(m.material_id, m.type, m.file_name, m.declared_size, m.declared_sha256)
        works[m.application_id].materials.append(
            MaterialWork(declared, files_root / m.storage_path if m.storage_path else None))
    return list(works.values())


def inspect(works: Iterable[Work], inspector: Inspector) -> dict[tuple[Path, bool], Inspection]:
    """Each stored file once (files are content-addressed, so a shared file is one path)."""
    seen: dict[tuple[Path, bool], Inspection] = {}
    for work in works:
        for m in work.materials:
            if m.path is None:
                continue
            key = (m.path, m.declared.type == "photo")
            if key not in seen and m.path.is_file():
                seen[key] = inspector.inspect(m.path, photo=key[1])
    return seen


def judge(work: Work, seen: dict[tuple[Path, bool], Inspection], r: Rules, *, today: dt.date,
          duplicate_active: bool, shared: set[str], lookup: Any = None) -> list[RuleFinding]:
    """The findings of one application (pure: the caller supplied the other applications'
    part, and the look-up of a 补办/换发/历史登记 number)."""
    cat = r.config.findings
    out = rules.application_findings(work.payload, policy=r.policy, cat=cat, today=today,
                                     regions=r.config.regions, committees=r.config.committees,
                                     declared_at=work.declared_at)
    out += lineage.lookup_findings(work.payload, cat, outcome=lookup.outcome if lookup else None,
                                   record=lookup.record if lookup else None)
    if duplicate_active:
        out.append(rules.duplicate_active_finding(work.payload, cat))
    for m in work.materials:
        got = seen.get((m.path, m.declared.type == "photo")) if m.path is not None else None
        if got is None:
            continue
        out += file_findings(m.declared, got, r.limits, cat)
        if got.sha256 in shared:
            out.append(rules.duplicate_file_finding(
                {"material_id": m.declared.material_id, "file_name": m.declared.file_name}, cat))
    return out


# -- what needs the other applications ------------------------------------------------------

def _instant(moment: dt.datetime | None) -> dt.datetime:
    """Stored times are aware (UTC); an unknown submission time sorts last."""
    return moment if moment is not None else NEVER


def earlier_active(*, session: Session, apps: list[Application]) -> set[int]:
    """Those of `apps` whose applicant has another active 初定/评审 application in the same
    batch year that holds the year's slot or was submitted before (一人一年度一件); one
    query for the chunk."""
    mine = [a for a in apps if a.track in rules.REVIEW_TRACKS and a.applicant_id is not None
            and a.batch_year is not None]
    # keyed as the rows hold it: another application's batch year may be unknown
    same: dict[tuple[int | None, int | None], list[Application]] = {}
    for people in in_pages(sorted({a.applicant_id for a in mine if a.applicant_id is not None})):
        for o in session.scalars(select(Application).where(
                Application.applicant_id.in_(people), Application.track.in_(rules.REVIEW_TRACKS),
                Application.status.in_(ACTIVE))):
            same.setdefault((o.applicant_id, o.batch_year), []).append(o)
    out = set()
    for a in mine:
        order = (_instant(a.submitted_at), a.id)
        if any(o.id != a.id and (o.holds_year_slot or (_instant(o.submitted_at), o.id) < order)
               for o in same.get((a.applicant_id, a.batch_year), [])):
            out.add(a.id)
    return out


def shared_files(*, session: Session, works: list[Work],
                 seen: dict[tuple[Path, bool], Inspection]) -> dict[int, set[str]]:
    """Per application: the SHA-256 of its files that another applicant also uploaded."""
    digests = {s.sha256 for s in seen.values()}
    owners: dict[str, set[tuple[str, int]]] = {}
    for chunk in in_pages(sorted(digests)):
        rows = session.execute(select(Material.sha256, Application.applicant_id, Application.id)
                               .join(Application, Application.id == Material.application_id)
                               .where(Material.sha256.in_(chunk),
                                      Material.revision == Application.current_revision))
        for sha, applicant, app_id in rows:
            # an application without a known applicant stands for a person of its own
            owners.setdefault(sha, set()).add(("p", applicant) if applicant is not None else ("a", app_id))
    out: dict[int, set[str]] = {}
    for work in works:   # only its own files: every digest of the chunk for every application is quadratic
        me = ("p", work.applicant_id) if work.applicant_id is not None else ("a", work.application_id)
        mine = {seen[k].sha256 for k in ((m.path, m.declared.type == "photo") for m in work.materials) if k in seen}
        out[work.application_id] = {sha for sha in mine if owners.get(sha, set()) - {me}}
    return out


# -- storing and moving on ---------------------------------------------------------------------

def clear_findings(*, session: Session, revisions: dict[int, int]) -> dict[int, list[Finding]]:
    """Delete validation's findings of these application revisions (application id ->
    revision) and return the other sources' findings of each, oldest first."""
    by_revision: dict[int, list[int]] = {}
    for app_id, revision in revisions.items():
        by_revision.setdefault(revision, []).append(app_id)
    others: dict[int, list[Finding]] = {}
    for revision, app_ids in by_revision.items():
        for ids in in_pages(sorted(app_ids)):
            mine = (Finding.application_id.in_(ids), Finding.revision == revision)
            session.execute(delete(Finding).where(*mine, Finding.source == SOURCE)
                            .execution_options(synchronize_session=False))
            for f in session.scalars(select(Finding).where(*mine).order_by(Finding.id)):
                others.setdefault(f.application_id, []).append(f)
    return others


def add_findings(*, session: Session, application_id: int, revision: int, findings: list[RuleFinding],
                 others: list[Finding], now: dt.datetime) -> list[Finding]:
    """Record validation's findings; one another source already recorded (same
    fingerprint) is not recorded twice. Returns the revision's findings of every source."""
    held = {f.fingerprint for f in others}
    rows = []
    for f in findings:
        if f.fingerprint in held:
            continue
        held.add(f.fingerprint)
        rows.append(Finding(application_id=application_id, revision=revision, source=SOURCE, code=f.code,
                            severity=f.severity, field=f.field, material_id=f.material_id, message=f.message,
                            params={k: str(v) for k, v in f.params.items()}, fingerprint=f.fingerprint,
                            created_at=now))
    session.add_all(rows)
    return others + rows


def submission_stage(app: Application, config: Any) -> str:
    """The first stage of the application's chain (评审申报, 初定申报, ...)."""
    if app.chain:
        return app.chain[0]
    stages = config.chains.tracks.get(app.track or "")
    if stages:
        return stages[0]
    return next(iter(config.chains.review.values()))[0]


def return_to_hall(*, session: Session, app: Application, errors: list[Finding], config: Any,
                   now: dt.datetime) -> None:
    stage = submission_stage(app, config)
    key = f"return:{app.submission_id}:r{app.current_revision}:{stage}"
    reasons = [{"code": f.code, "message": f.message} for f in errors]
    outbox.enqueue(session=session, target="hall_return", kind="return", dedupe_key=key, now=now,
                   payload={"submission_id": app.submission_id, "revision": app.current_revision,
                            "stage": stage, "reasons": reasons, "idempotency_key": key})


def pass_on(*, session: Session, apps: list[Application], config: Any, now: dt.datetime) -> None:
    """No errors: onto their review chains (all of a chunk at once); one that no chain
    fits stays "validated" for a human to route."""
    from zhicheng.review.service import enter_many
    for app in apps:
        app.status = ApplicationStatus.VALIDATED
        if app.track in rules.REVIEW_TRACKS:
            app.holds_year_slot = True
    entered = enter_many(session=session, apps=apps, now=now, config=config)
    for app in apps:
        if isinstance(entered[app.id], IllegalMove):
            log.warning("办件 %s 已通过校验，但未能进入审核流程：%s", app.submission_id, entered[app.id])


def apply(*, session: Session, works: list[Work], seen: dict[tuple[Path, bool], Inspection], r: Rules,
          now: dt.datetime) -> dict[str, Any]:
    """Judge and store one chunk (in the caller's transaction)."""
    summary: dict[str, Any] = {"applications": 0, "passed": 0, "returned": 0, "skipped": 0,
                               "awaiting_chsi": 0, "awaiting_province": 0, "findings": Counter()}
    shared = shared_files(session=session, works=works, seen=seen)
    unsettled = chsi_unsettled(session=session, works=works)
    lookups = lifecycle.settled(session=session, revisions={w.application_id: w.revision for w in works
                                          if lifecycle.needs_lookup(w.payload)})
    locked: dict[int, Application] = {}
    for ids in in_pages([w.application_id for w in works]):
        locked.update((a.id, a) for a in session.scalars(select(Application).where(Application.id.in_(ids))
                                                         .with_for_update(skip_locked=True)))
    judged = []
    for work in works:
        app = locked.get(work.application_id)
        if app is None or app.status != ApplicationStatus.RECEIVED or app.current_revision != work.revision:
            summary["skipped"] += 1   # another run took it, or intake moved it on meanwhile
        elif app.id in unsettled:
            summary["awaiting_chsi"] += 1  # stays received: judged once 学信 has answered
        elif lifecycle.needs_lookup(work.payload) and app.id not in lookups:
            summary["awaiting_province"] += 1  # judged once its number has a definite answer
        else:
            judged.append((work, app))
    # before any move: a pass in this chunk changes no verdict here (the earliest passes)
    earlier = earlier_active(session=session, apps=[app for _, app in judged])
    others = clear_findings(session=session, revisions={app.id: app.current_revision for _, app in judged})
    passed: list[Application] = []
    for work, app in judged:
        findings = judge(work, seen, r, today=local_date(now), duplicate_active=app.id in earlier,
                         shared=shared.get(work.application_id, set()), lookup=lookups.get(app.id))
        held = add_findings(session=session, application_id=app.id, revision=app.current_revision,
                            findings=findings, others=others.get(app.id, []), now=now)
        errors = [f for f in held if f.source in RETURNING and f.severity == "error"]
        summary["applications"] += 1
        summary["findings"].update(f.code for f in held)   # 学信's and intake's too: the whole verdict
        if errors:
            app.status = ApplicationStatus.RETURNED
            return_to_hall(session=session, app=app, errors=errors, config=r.config, now=now)
            summary["returned"] += 1
        else:
            passed.append(app)
            summary["passed"] += 1
    pass_on(session=session, apps=passed, config=r.config, now=now)
    session.flush()
    summary["findings"] = dict(summary["findings"])
    return summary


def validate_chunk(*, sessions: Any, application_ids: list[int], config: Any, now: dt.datetime,
                   files_root: Path, inspector: Inspector | None = None) -> dict[str, Any]:
    """Validate one chunk: plan, inspect (outside any transaction), judge and store in one."""
    from zhicheng.db.engine import unit_of_work
    r = Rules.from_config(config)
    with sessions() as session:
        works = plan(session=session, application_ids=application_ids, files_root=files_root)
    if inspector is not None:
        seen = inspect(works, inspector)
    else:
        with pooled(InspectLimits.from_config(config)) as own:
            seen = inspect(works, own)
    with unit_of_work(sessions) as session:
        summary = apply(session=session, works=works, seen=seen, r=r, now=now)
    # uploads checked (a file two applicants share is inspected once but checked for each)
    uploads = [seen[(m.path, m.declared.type == "photo")] for w in works for m in w.materials
               if m.path is not None and (m.path, m.declared.type == "photo") in seen]
    summary["files"], summary["bytes"] = len(uploads), sum(s.size for s in uploads)
    return summary
