"""Staff search of the certificate registry and of applications' progress (查看审核进度),
scoped to the office's region, every look-up recorded (staff_lookups, append-only).

An office sees a certificate when it issued it or when the holder's employer, as the
application submitted it, lies in its region; it sees an application by that region.
ID numbers leave here masked (docs/privacy.md); a search by a whole number still works.
"""
from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from zhicheng.db.models import Application, Finding, StaffAccount, StaffLookup
from zhicheng.domain.privacy import mask_id_number
from zhicheng.domain.verification import region_prefix, status_view
from zhicheng.issuance.models import Certificate
from zhicheng.review.models import Decision, ReviewStep

CRITERIA = ("id_number", "name", "certificate_no", "year", "region", "qualification")
COLUMNS = ("证书编号", "姓名", "身份证号", "资格名称", "级别", "专业", "发证单位", "发证日期", "状态", "取代证书")


class BadCriteria(ValueError):
    """A search that cannot run as asked (the message says which field, in Chinese)."""


@dataclass(frozen=True)
class Criteria:
    id_number: str = ""
    name: str = ""
    certificate_no: str = ""
    year: int | None = None
    region: str = ""
    qualification: str = ""

    @classmethod
    def parse(cls, form: Mapping[str, Any]) -> "Criteria":
        values = {k: str(form.get(k) or "").strip() for k in CRITERIA}
        year = values.pop("year")
        if year and not (year.isdigit() and 1950 <= int(year) <= 2100):
            raise BadCriteria(f"年度“{year}”应为四位年份")
        region = values["region"]
        if region and not (region.isdigit() and len(region) == 6):
            raise BadCriteria(f"地区代码“{region}”应为 6 位数字")
        c = cls(**{**values, "id_number": values["id_number"].upper(),
                   "certificate_no": values["certificate_no"].upper()}, year=int(year) if year else None)
        if not c.given():
            raise BadCriteria("请至少填写一个查询条件")
        return c

    def given(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in CRITERIA if getattr(self, k) not in ("", None)}


def search(*, session: Session, office_region: str, criteria: Criteria, limit: int,
           labels: Mapping[str, str]) -> list[dict[str, Any]]:
    prefix = region_prefix(office_region)
    q = (select(Certificate, Application.region_code, Application.submission_id)
         .outerjoin(Application, Application.id == Certificate.application_id)
         .where(or_(Certificate.issuer_region_code.startswith(prefix, autoescape=True),
                    Application.region_code.startswith(prefix, autoescape=True))))
    if criteria.id_number:
        q = q.where(Certificate.holder_id_number == criteria.id_number)
    if criteria.name:
        q = q.where(Certificate.holder_name == criteria.name)
    if criteria.certificate_no:
        q = q.where(Certificate.certificate_no == criteria.certificate_no)
    if criteria.year:
        q = q.where(Certificate.issued_on >= dt.date(criteria.year, 1, 1),
                    Certificate.issued_on <= dt.date(criteria.year, 12, 31))
    if criteria.region:
        within = region_prefix(criteria.region)
        q = q.where(or_(Certificate.issuer_region_code.startswith(within, autoescape=True),
                        Application.region_code.startswith(within, autoescape=True)))
    if criteria.qualification:
        q = q.where(Certificate.qualification_name.contains(criteria.qualification, autoescape=True))
    found = session.execute(q.order_by(Certificate.issued_on.desc(), Certificate.certificate_no)
                            .limit(limit)).all()
    numbers = [c.certificate_no for c, _, _ in found]
    successors = dict(session.execute(select(Certificate.replaces, Certificate.certificate_no)
                                      .where(Certificate.replaces.in_(numbers))).tuples().all()) if numbers else {}
    rows = []
    for cert, region, submission_id in found:
        view = status_view(cert.status, successors.get(cert.certificate_no), labels)
        rows.append({"certificate_no": cert.certificate_no, "holder_name": cert.holder_name,
                     "holder_id_number": mask_id_number(cert.holder_id_number),
                     "qualification_name": cert.qualification_name, "level": cert.level,
                     "specialty": cert.specialty, "issuer": cert.issuer,
                     "issued_on": cert.issued_on.isoformat(), "status": view.label,
                     "replaced_by": view.replaced_by or "", "region_code": region or cert.issuer_region_code,
                     "submission_id": submission_id})
    return rows


def export_xlsx(rows: Sequence[Mapping[str, Any]], *, title: str) -> bytes:
    """The result as one sheet, every cell formula-safe (spreadsheets.row_cells)."""
    import openpyxl

    from zhicheng.files.spreadsheets import row_cells
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "证书查询结果"
    ws.append(row_cells(ws, [title]))
    ws.append(row_cells(ws, COLUMNS))
    keys = ("certificate_no", "holder_name", "holder_id_number", "qualification_name", "level",
            "specialty", "issuer", "issued_on", "status", "replaced_by")
    for r in rows:
        ws.append(row_cells(ws, [r[k] for k in keys]))
    for letter, width in zip("ABCDEFGHIJ", (22, 10, 22, 14, 8, 14, 30, 12, 10, 22), strict=True):
        ws.column_dimensions[letter].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def progress(*, session: Session, office_region: str, submission_id: str) -> dict[str, Any] | None:
    """An application's stage, chain and history (查看审核进度); None when there is none
    in the office's region (the same answer: staff cannot probe other regions)."""
    app = session.scalar(select(Application).where(Application.submission_id == submission_id.strip()))
    if app is None or not (app.region_code or "").startswith(region_prefix(office_region)):
        return None
    steps = session.scalars(select(ReviewStep).where(ReviewStep.application_id == app.id)
                            .order_by(ReviewStep.entered_at, ReviewStep.id)).all()
    decisions = session.scalars(select(Decision).where(Decision.application_id == app.id)
                                .order_by(Decision.decided_at, Decision.id)).all()
    findings = session.scalars(select(Finding).where(Finding.application_id == app.id,
                                                     Finding.revision == app.current_revision)
                               .order_by(Finding.id)).all()
    certs = session.scalars(select(Certificate).where(Certificate.application_id == app.id)
                            .order_by(Certificate.id)).all()
    return {
        "submission_id": app.submission_id, "revision": app.current_revision, "track": app.track,
        "batch_year": app.batch_year, "status": app.status, "stage": app.stage,
        "chain": list(app.chain or []), "stage_index": app.stage_index,
        "qualification_name": app.qualification_name, "level": app.level,
        "employer_name": app.employer_name, "region_code": app.region_code,
        "steps": [{"stage": s.stage, "entered_at": s.entered_at, "left_at": s.left_at,
                   "outcome": s.outcome, "due_at": s.due_at} for s in steps],
        "decisions": [{"stage": d.stage, "action": d.action, "office": d.office, "actor": d.actor,
                       "reason": d.reason, "decided_at": d.decided_at, "revision": d.revision}
                      for d in decisions],
        "findings": [{"code": f.code, "severity": f.severity, "message": f.message} for f in findings],
        "certificates": [c.certificate_no for c in certs],
    }


def record_lookup(*, session: Session, account: StaffAccount, action: str, criteria: Mapping[str, Any],
                  subjects: Sequence[str], client: str | None, now: dt.datetime) -> None:
    session.add(StaffLookup(account_id=account.id, username=account.username, office=account.office,
                            action=action, criteria=dict(criteria), results=len(subjects),
                            subjects=list(subjects), client=(client or "")[:64] or None, at=now))
