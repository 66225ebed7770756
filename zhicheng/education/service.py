"""Education sync with 学信: plan a chunk, fetch what is missing, judge and store.

Three steps so the network part can run concurrently outside any transaction:
`plan` reads applications (and their 学信 report files) into plain `Work`,
`zhicheng.education.fetch` gets every answer not cached, and `apply` runs the
pure rules of `zhicheng.domain.education` and writes checks and findings (source
"chsi") for the application's current revision, replacing that revision's earlier ones.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import and_, delete, exists, or_, select, tuple_
from sqlalchemy.orm import Session

from zhicheng.db.batches import in_pages
from zhicheng.db.models import Application, ApplicationRevision, Finding, Material
from zhicheng.domain import education as rules
from zhicheng.domain import lineage
from zhicheng.domain.application_status import ApplicationStatus
from zhicheng.domain.findings import Catalogue
from zhicheng.education.fetch import Answer, Key, records_key
from zhicheng.education.models import EducationCheck
from zhicheng.files.pdf_inspect import InspectLimits, pooled

ACTIVE = (ApplicationStatus.RECEIVED, ApplicationStatus.VALIDATED, ApplicationStatus.IN_REVIEW,
          ApplicationStatus.APPROVED)
RETRY = ("unavailable", "pending_file")   # outcomes a later run must look at again


@dataclass(frozen=True)
class ReportFile:
    material_id: str
    file_name: str
    present: bool                 # the file is in our storage (intake fetched it)
    code: str | None = None
    printed_valid_until: str | None = None


@dataclass
class Work:
    application_id: int
    revision: int
    id_number: str
    name: str
    entries: list[dict]
    reports: list[ReportFile] = field(default_factory=list)

    def keys(self) -> list[Key]:
        out: list[Key] = [("records", records_key(self.id_number, self.name))] if self.entries else []
        return out + [("report", r.code) for r in self.reports if r.code]


def pending(*, session: Session, limit: int | None = None, after_id: int = 0) -> list[int]:
    """Active 初定/评审 applications whose current revision has not been checked, or only
    partly (the forms of 补办, 换发 and 历史登记 do not ask for education)."""
    checked = select(EducationCheck.id).where(EducationCheck.application_id == Application.id,
                                              EducationCheck.revision == Application.current_revision)
    retry = checked.where(EducationCheck.outcome.in_(RETRY))
    q = (select(Application.id).where(Application.status.in_(ACTIVE), Application.id > after_id,
                                      or_(Application.track.is_(None),
                                          Application.track.not_in(lineage.LOOKUP_TRACKS)),
                                      or_(~exists(checked), exists(retry)))
         .order_by(Application.id))
    return list(session.scalars(q.limit(limit) if limit else q))


def unverified(*, session: Session, applications: Sequence[Application],
               payloads: Mapping[int, dict]) -> set[int]:
    """Of these applications, the ones whose current revision asks 学信 (declared
    education or an uploaded 学信 report; 补办, 换发 and 历史登记 do not) and has no
    definite answer stored for it: no check yet, or one still waiting (RETRY). Read
    from the checks the education sync stored, never from 学信: whoever asks (issuance)
    reports these and goes on, it does not wait for 学信."""
    revision = {a.id: a.current_revision for a in applications if a.track not in lineage.LOOKUP_TRACKS}
    asks = {i for i in revision if any(isinstance(e, dict) for e in payloads.get(i, {}).get("education") or [])}
    for ids in in_pages(sorted(revision)):
        asks.update(session.scalars(select(Material.application_id).where(
            Material.application_id.in_(ids), Material.type == "chsi_report",
            Material.revision == Application.current_revision, Application.id == Material.application_id)))
    return without_answer(session=session, revisions={i: revision[i] for i in asks}, waiting=RETRY)


def without_answer(*, session: Session, revisions: Mapping[int, int], waiting: Collection[str]) -> set[int]:
    """Of these applications (id: revision), the ones with no check stored for that
    revision, or one whose outcome is in `waiting`: what 学信 has not settled yet."""
    outcomes: dict[int, set[str]] = {}
    for ids in in_pages(sorted(revisions)):
        for app_id, rev, outcome in session.execute(
                select(EducationCheck.application_id, EducationCheck.revision, EducationCheck.outcome)
                .where(EducationCheck.application_id.in_(ids))):
            if rev == revisions[app_id]:
                outcomes.setdefault(app_id, set()).add(outcome)
    return {i for i in revisions if not outcomes.get(i) or outcomes[i] & set(waiting)}


def plan(*, session: Session, application_ids: list[int], files_root: Path,
         read_text: Callable[[Path], str]) -> list[Work]:
    """The chunk's applications as plain Work, in a few queries for the chunk; a 学信
    report's text is read with `read_text` (the inspector: uploads are hostile)."""
    out, reports = [], _reports(session=session, application_ids=application_ids, files_root=files_root,
                                read_text=read_text)
    for ids in in_pages(sorted(application_ids)):
        for app_id, revision, payload in session.execute(
                select(Application.id, Application.current_revision, ApplicationRevision.payload)
                .outerjoin(ApplicationRevision, and_(ApplicationRevision.application_id == Application.id,
                                                     ApplicationRevision.revision == Application.current_revision))
                .where(Application.id.in_(ids)).order_by(Application.id)):
            payload = payload or {}
            applicant = payload.get("applicant") or {}
            entries = [e for e in payload.get("education") or [] if isinstance(e, dict)]
            out.append(Work(app_id, revision, str(applicant.get("id_number") or ""),
                            str(applicant.get("name") or ""), entries, reports.get(app_id, [])))
    return out


def _reports(*, session: Session, application_ids: list[int], files_root: Path,
             read_text: Callable[[Path], str]) -> dict[int, list[ReportFile]]:
    """The 学信 reports of the applications' current revisions, by application."""
    out: dict[int, list[ReportFile]] = {}
    for ids in in_pages(sorted(application_ids)):
        for app_id, mid, file_name, storage_path in session.execute(
                select(Material.application_id, Material.material_id, Material.file_name, Material.storage_path)
                .join(Application, and_(Application.id == Material.application_id,
                                        Application.current_revision == Material.revision))
                .where(Material.application_id.in_(ids), Material.type == "chsi_report")
                .order_by(Material.application_id, Material.material_id)):
            out.setdefault(app_id, []).append(_report(mid, file_name, storage_path, files_root, read_text))
    return out


def _report(material_id: str, file_name: str, storage_path: str | None, files_root: Path,
            read_text: Callable[[Path], str]) -> ReportFile:
    path = Path(storage_path) if storage_path else None
    if path is not None and not path.is_absolute():
        path = files_root / path
    if path is None or not path.is_file():
        return ReportFile(material_id, file_name, present=False)
    text = read_text(path)
    return ReportFile(material_id, file_name, True, rules.extract_online_code(text), rules.extract_valid_until(text))


def apply(*, session: Session, work: Work, answers: dict[Key, Answer], catalogue: Catalogue,
          now: dt.datetime) -> dict[str, int]:
    """Judge one application from the answers and add its checks and findings (after
    `clear` of its revision's earlier ones; they go out with the chunk's flush)."""
    checks, findings = _judge_entries(work, answers, catalogue)
    for rep in work.reports:
        c, f = _judge_report(work, rep, answers, catalogue)
        checks.append(c)
        findings += f
    _store(session=session, work=work, checks=checks, findings=findings, now=now)
    counts: dict[str, int] = {}
    for c in checks:
        counts[c["outcome"]] = counts.get(c["outcome"], 0) + 1
    return counts


def _judge_entries(work: Work, answers: dict[Key, Answer], cat: Catalogue) -> tuple[list, list]:
    if not work.entries:
        return [], []
    ans = answers.get(("records", records_key(work.id_number, work.name)))
    subjects = [f"entry:{i}" for i in range(len(work.entries))]
    if ans is None:
        return [_check(s, "unavailable") for s in subjects], []
    if ans.status == 404:
        finding = cat.make("chsi.name_mismatch", field="applicant.name", value=work.name)
        return [_check(s, "no_match", answer=ans) for s in subjects], [finding]
    records = [r for r in ans.body.get("records") or [] if isinstance(r, dict)]
    checks, findings = [], []
    for i, entry in enumerate(work.entries):
        got = rules.match_entry(entry, records)
        # a filled entry always has its record (domain/education.py: _fill_from_chsi)
        record = {**got.record, "filled": got.filled} if got.filled and got.record is not None else got.record
        checks.append(_check(f"entry:{i}", got.outcome, list(got.fields), record, ans))
        label = rules.entry_label({**entry, **got.filled})
        if got.outcome == rules.MISMATCHED:
            findings.append(cat.make("chsi.mismatch", field=f"education[{i}]", detail=label,
                                     value="、".join(rules.FIELD_NAMES[f] for f in got.fields)))
        elif got.outcome == rules.NOT_HELD:
            findings.append(cat.make("chsi.not_held", field=f"education[{i}]", detail=label))
    return checks, findings


def _judge_report(work: Work, rep: ReportFile, answers: dict[Key, Answer], cat: Catalogue) -> tuple[dict, list]:
    subject, mid = f"report:{rep.material_id}", rep.material_id
    if not rep.present:
        return _check(subject, "pending_file"), []
    if rep.code is None:
        return _check(subject, "unreadable"), [cat.make("chsi.report_unreadable", material_id=mid,
                                                        file_name=rep.file_name)]
    ans = answers.get(("report", rep.code))
    if ans is None:
        return _check(subject, "unavailable"), []
    if ans.status == 404:
        return _check(subject, "unknown", answer=ans), [cat.make("chsi.report_unknown", material_id=mid,
                                                                 value=rep.code)]
    if ans.status == 410:
        until = ans.body.get("valid_until") or rep.printed_valid_until or "备案表所载日期"
        return _check(subject, "expired", answer=ans), [cat.make("chsi.report_expired", material_id=mid,
                                                                 value=rep.code, detail=until)]
    problems = rules.check_report(ans.body, id_number=work.id_number, name=work.name, entries=work.entries)
    outcome = {"chsi.report_other_person": "other_person", "chsi.report_mismatch": "mismatched"}
    check = _check(subject, outcome[problems[0][0]] if problems else "valid",
                   record=ans.body.get("record"), answer=ans)
    return check, [cat.make(code, material_id=mid, **params) for code, params in problems]


def _check(subject: str, outcome: str, fields: list | None = None, record: Any = None,
           answer: Answer | None = None) -> dict:
    return {"subject": subject, "outcome": outcome, "fields": fields or [], "record": record,
            "answer_id": answer.answer_id if answer else None}


def clear(*, session: Session, works: list[Work]) -> None:
    """Remove the earlier checks and 学信 findings of these applications' revisions (a
    re-check replaces them), in two statements for the chunk."""
    for page in in_pages(sorted({(w.application_id, w.revision) for w in works})):
        session.execute(delete(EducationCheck).where(
            tuple_(EducationCheck.application_id, EducationCheck.revision).in_(page))
            .execution_options(synchronize_session=False))   # none of them is loaded here
        session.execute(delete(Finding).where(
            tuple_(Finding.application_id, Finding.revision).in_(page), Finding.source == "chsi")
            .execution_options(synchronize_session=False))


def _store(*, session: Session, work: Work, checks: list[dict], findings: list, now: dt.datetime) -> None:
    where = (work.application_id, work.revision)
    session.add_all([EducationCheck(application_id=where[0], revision=where[1], checked_at=now, **c)
                     for c in checks])
    seen = set()
    for f in findings:
        if f.fingerprint in seen:
            continue
        seen.add(f.fingerprint)
        session.add(Finding(application_id=where[0], revision=where[1], source="chsi", code=f.code,
                            severity=f.severity, field=f.field, material_id=f.material_id,
                            message=f.message, params={k: str(v) for k, v in f.params.items()},
                            fingerprint=f.fingerprint, created_at=now))


@dataclass(frozen=True)
class SyncSettings:
    max_age: dt.timedelta
    concurrency: int
    chunk: int

    @classmethod
    def from_config(cls, config: Any) -> SyncSettings:
        own = config.education
        return cls(max_age=dt.timedelta(days=own.answer_max_age_days), concurrency=own.max_concurrency,
                   chunk=config.policy.chunks.education)


def sync_chunk(*, sessions: Any, gateway: Any, application_ids: list[int], config: Any,
               now: dt.datetime, files_root: Path) -> dict[str, Any]:
    """Check one chunk: plan, reuse or fetch answers, judge and store in one transaction."""
    from zhicheng.db.engine import unit_of_work
    from zhicheng.education import fetch as fetching
    opts = SyncSettings.from_config(config)
    with sessions() as session, pooled(InspectLimits.from_config(config)) as inspector:
        works = plan(session=session, application_ids=application_ids, files_root=files_root, read_text=inspector.text)
        keys = [k for w in works for k in w.keys()]
        have = fetching.cached(session=session, keys=keys, now=now, max_age=opts.max_age)
    missing = [k for k in dict.fromkeys(keys) if k not in have]
    fresh, outage = fetching.fetch(gateway, keys=missing, concurrency=opts.concurrency)
    outcomes: dict[str, int] = {}
    with unit_of_work(sessions) as session:
        answers = {**have, **fetching.store(session=session, answers=fresh, now=now)}
        clear(session=session, works=works)
        for work in works:
            for outcome, n in apply(session=session, work=work, answers=answers, catalogue=config.findings,
                                    now=now).items():
                outcomes[outcome] = outcomes.get(outcome, 0) + n
    return {"applications": len(works), "reused": len(set(keys) & set(have)), "fetched": len(fresh),
            "outage": outage, "outcomes": outcomes}
