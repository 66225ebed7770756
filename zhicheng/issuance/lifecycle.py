"""Looking up the certificate a 补办/换发 replaces, or a 历史登记 registers.

补办 and 换发 start from a certificate the province holds (seed 000: "if it cannot be
found, first use 历史职称数据登记"); a 历史登记 registers only what it lacks. Before
validation judges such an application, its number is looked up: in our registry first
(a certificate we issued or registered), then at the province by number
(external-systems.md §3 `GET /api/v1/certificates/{certificate_no}`). The answer is kept
per application revision (`certificate_lookups`, with the record found), and
`zhicheng.domain.lineage.lookup_findings` turns it into findings. A province outage is
no answer: the application stays received and the next run asks again; nobody is
returned for an outage.

Issuance later takes the origin of a 补办/换发 from the record found, and revokes a
former platform's certificate at the province through the outbox (issuance.py).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from zhicheng.connectors.errors import Unavailable
from zhicheng.db.batches import in_pages
from zhicheng.db.models import Application, ApplicationRevision
from zhicheng.domain import lineage
from zhicheng.domain.application_status import ApplicationStatus
from zhicheng.issuance.models import Certificate, CertificateLookup

SETTLED = (lineage.FOUND, lineage.NOT_FOUND)


def needs_lookup(payload: dict[str, Any]) -> str | None:
    """The number this revision must look up before it is judged, or None (another track,
    or no usable number: the rules alone say what is wrong with it)."""
    number = lineage.looked_up_number(payload)
    if not number or len(number) > lineage.MAX_NUMBER_LENGTH or lineage.number_is_ours_but_wrong(number):
        return None
    return number


def _current(*, session: Session, application_ids: list[int]) -> list[tuple[Application, dict[str, Any]]]:
    out: list[tuple[Application, dict[str, Any]]] = []
    for ids in in_pages(sorted(application_ids)):
        out += session.execute(
            select(Application, ApplicationRevision.payload)
            .join(ApplicationRevision, (ApplicationRevision.application_id == Application.id)
                  & (ApplicationRevision.revision == Application.current_revision))
            .where(Application.id.in_(ids), Application.status == ApplicationStatus.RECEIVED,
                   Application.track.in_(lineage.LOOKUP_TRACKS))
            .order_by(Application.id)).tuples().all()
    return out


def settled(*, session: Session, revisions: dict[int, int]) -> dict[int, CertificateLookup]:
    """The definite look-up of each application's revision (application id -> revision)."""
    out: dict[int, CertificateLookup] = {}
    for ids in in_pages(sorted(revisions)):
        for row in session.scalars(select(CertificateLookup).where(
                CertificateLookup.application_id.in_(ids), CertificateLookup.outcome.in_(SETTLED))):
            if revisions[row.application_id] == row.revision:
                out[row.application_id] = row
    return out


def awaiting(*, session: Session, application_ids: list[int] | None = None) -> list[int]:
    """Received 补办/换发/历史登记 applications whose number has no definite answer yet."""
    definite = select(CertificateLookup.id).where(
        CertificateLookup.application_id == Application.id,
        CertificateLookup.revision == Application.current_revision,
        CertificateLookup.outcome.in_(SETTLED))
    q = select(Application.id).where(Application.status == ApplicationStatus.RECEIVED,
                                     Application.track.in_(lineage.LOOKUP_TRACKS), ~exists(definite))
    candidates = list(session.scalars(q.order_by(Application.id)))
    if application_ids is not None:
        wanted = set(application_ids)
        candidates = [a for a in candidates if a in wanted]
    return [app.id for app, payload in _current(session=session, application_ids=candidates)
            if needs_lookup(payload or {})]


@dataclass
class LookupResult:
    asked: int = 0
    found: int = 0
    not_found: int = 0
    outage: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"asked": self.asked, "found": self.found, "not_found": self.not_found, "outage": self.outage}


def lookup_chunk(*, session: Session, client: Any, application_ids: list[int],
                 now: dt.datetime) -> LookupResult:
    """Look these applications' numbers up and store the answers (the caller commits).
    An outage stores `unavailable` for the application it hit and stops the chunk."""
    from zhicheng.issuance.service import province_record
    result = LookupResult()
    todo = [(app, number) for app, payload in _current(session=session, application_ids=application_ids)
            if (number := needs_lookup(payload or {}))]
    numbers = {number for _, number in todo}
    ours = {c.certificate_no: c for c in session.scalars(
        select(Certificate).where(Certificate.certificate_no.in_(list(numbers))))} if numbers else {}
    for app, number in todo:
        outcome, source, record = lineage.NOT_FOUND, None, None
        if number in ours:
            outcome, source, record = lineage.FOUND, "registry", _plain(province_record(ours[number], None))
        else:
            try:
                record = client.get(number)
            except Unavailable:
                _store(session=session, app=app, number=number, outcome=lineage.UNAVAILABLE, source=None,
                       record=None, now=now)
                result.outage = True
                return result
            result.asked += 1
            if record is not None:
                outcome, source = lineage.FOUND, "province"
        _store(session=session, app=app, number=number, outcome=outcome, source=source, record=record, now=now)
        if outcome == lineage.FOUND:
            result.found += 1
        else:
            result.not_found += 1
    return result


def _plain(record: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in record.items()}


def _store(*, session: Session, app: Application, number: str, outcome: str, source: str | None,
           record: dict[str, Any] | None, now: dt.datetime) -> None:
    row = session.scalar(select(CertificateLookup).where(
        CertificateLookup.application_id == app.id, CertificateLookup.revision == app.current_revision))
    if row is None:
        row = CertificateLookup(application_id=app.id, revision=app.current_revision)
        session.add(row)
    row.certificate_no, row.outcome, row.source, row.record, row.checked_at = number, outcome, source, record, now
    session.flush()


def found_records(*, session: Session, application_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The record found for each application's current revision (issuance's prior)."""
    revisions = dict(session.execute(select(Application.id, Application.current_revision)
                                     .where(Application.id.in_(application_ids))).tuples().all())
    return {a: row.record for a, row in settled(session=session, revisions=revisions).items()
            if row.outcome == lineage.FOUND and row.record}


def province_configured(settings: Any) -> bool:
    system = settings.system("province")
    return bool(system.url and system.app_id and system.app_secret)
