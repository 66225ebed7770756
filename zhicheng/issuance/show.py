"""查看办件与证书: one application or one person's certificates, as staff see them.

An application (by submission id): its track, status and stage on its chain, every
decision, the findings of its current revision, the look-up of its prior or historic
certificate, the messages sent to the hall for it, and its certificates. Certificates
(by number or by holder's ID number): each with its lineage (what it replaces, what
replaced it). Personal data leaves masked (docs/privacy.md): ID numbers as
`3201**********0014`, no phone numbers.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from zhicheng.clock import local
from zhicheng.db.models import Applicant, Application, Finding, OutboxItem
from zhicheng.domain.privacy import mask_id_number
from zhicheng.issuance.models import Certificate, CertificateLookup
from zhicheng.review.models import Decision

HALL = ("hall_return", "hall_notification", "hall_cancellation")


def _when(moment: dt.datetime | None) -> str | None:
    return local(moment).isoformat(timespec="seconds") if moment else None


def certificate_view(c: Certificate, replaced_by: str | None) -> dict[str, Any]:
    return {"certificate_no": c.certificate_no, "version": c.version, "status": c.status,
            "holder_name": c.holder_name, "holder_id_number": mask_id_number(c.holder_id_number),
            "qualification_name": c.qualification_name, "level": c.level, "obtained_by": c.obtained_by,
            "committee_name": c.committee_name, "approved_on": c.approved_on.isoformat(),
            "issued_on": c.issued_on.isoformat(), "issuer": c.issuer, "replaces": c.replaces,
            "replaced_by": replaced_by, "revoked_at": _when(c.revoked_at), "revoke_reason": c.revoke_reason,
            "has_document": bool(c.document_path), "ours": c.application_id is not None}


def _with_lineage(*, session: Session, certs: list[Certificate]) -> list[dict[str, Any]]:
    numbers = [c.certificate_no for c in certs]
    successors = dict(session.execute(select(Certificate.replaces, Certificate.certificate_no)
                                      .where(Certificate.replaces.in_(numbers))).tuples().all()) if numbers else {}
    return [certificate_view(c, successors.get(c.certificate_no)) for c in certs]


def certificates(*, session: Session, number: str | None = None,
                 id_number: str | None = None) -> list[dict[str, Any]]:
    """A certificate by number, or every certificate of a holder, oldest first."""
    q = select(Certificate).order_by(Certificate.issued_on, Certificate.id)
    q = q.where(Certificate.certificate_no == number) if number else q.where(
        Certificate.holder_id_number == id_number)
    return _with_lineage(session=session, certs=list(session.scalars(q)))


def application(*, session: Session, submission_id: str) -> dict[str, Any] | None:
    app = session.scalar(select(Application).where(Application.submission_id == submission_id))
    if app is None:
        return None
    person = session.get(Applicant, app.applicant_id) if app.applicant_id else None
    decisions = session.scalars(select(Decision).where(Decision.application_id == app.id)
                                .order_by(Decision.decided_at, Decision.id)).all()
    findings = session.scalars(select(Finding).where(Finding.application_id == app.id,
                                                     Finding.revision == app.current_revision)
                               .order_by(Finding.id)).all()
    lookup = session.scalar(select(CertificateLookup).where(
        CertificateLookup.application_id == app.id, CertificateLookup.revision == app.current_revision))
    messages = [m for m in session.scalars(select(OutboxItem).where(
        OutboxItem.target.in_(HALL), or_(OutboxItem.dedupe_key.like(f"%{app.submission_id}%"),
                                         OutboxItem.target != "hall_return")).order_by(OutboxItem.id))
        if _concerns(m, app.submission_id, person.id_number if person else None)]
    certs = list(session.scalars(select(Certificate).where(Certificate.application_id == app.id)))
    chain = list(app.chain or [])
    return {
        "submission_id": app.submission_id, "revision": app.current_revision, "track": app.track,
        "batch_year": app.batch_year, "status": app.status, "stage": app.stage,
        "stage_index": app.stage_index, "chain": chain,
        "applicant": {"name": person.name if person else None,
                      "id_number": mask_id_number(person.id_number) if person else None},
        "employer": app.employer_name, "level": app.level, "series": app.series,
        "specialty": app.specialty, "qualification_name": app.qualification_name,
        "committee_id": app.committee_id, "submitted_at": _when(app.submitted_at),
        "decisions": [{"stage": d.stage, "action": d.action, "actor": d.actor, "office": d.office,
                       "reason": d.reason, "decided_at": _when(d.decided_at), "revision": d.revision}
                      for d in decisions],
        "findings": [{"code": f.code, "severity": f.severity, "field": f.field,
                      "material_id": f.material_id, "message": f.message, "source": f.source}
                     for f in findings],
        "lookup": None if lookup is None else {"certificate_no": lookup.certificate_no, "outcome": lookup.outcome,
                                               "source": lookup.source, "checked_at": _when(lookup.checked_at)},
        "messages": [{"to": m.target, "kind": m.kind, "status": m.status, "queued_at": _when(m.created_at),
                      "sent_at": _when(m.sent_at), "summary": _summary(m)} for m in messages],
        "certificates": _with_lineage(session=session, certs=certs),
    }


def _concerns(item: OutboxItem, submission_id: str, id_number: str | None) -> bool:
    """A return or cancellation answer names the submission; a notification the person,
    and the submission too when it is about one (passing review, publicity, rejection):
    a person's other applications keep theirs."""
    p = item.payload or {}
    about = (p.get("params") or {}).get("submission_id")
    return p.get("submission_id") == submission_id or (
        item.target == "hall_notification" and id_number is not None and p.get("id_number") == id_number
        and about in (None, submission_id))


def _summary(item: OutboxItem) -> str:
    p = item.payload or {}
    if item.target == "hall_return":
        return "；".join(r.get("message", "") for r in p.get("reasons") or [])
    if item.target == "hall_cancellation":
        return "同意取消" if p.get("accepted") else "不同意取消：" + "；".join(
            r.get("message", "") for r in p.get("reasons") or [])
    params = p.get("params") or {}
    return f"{p.get('template')}：" + "，".join(f"{k}={v}" for k, v in params.items()
                                               if k not in ("verification_url",))
