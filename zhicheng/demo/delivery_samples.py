"""Sample certificates with their queued province records, written straight into the
registry (tens of thousands in seconds): for delivery tests, benchmarks and drills."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, select

from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import OutboxItem
from zhicheng.demo.issuance_samples import person_name
from zhicheng.domain.certificate_numbers import make_number
from zhicheng.domain.identity import make_id_number
from zhicheng.issuance.models import Certificate
from zhicheng.issuance.service import province_record

ISSUERS = {"321200": "泰州市人力资源和社会保障局", "320100": "南京市人力资源和社会保障局"}


def certificate_row(i: int, region: str = "321200", year: int = 2026) -> dict:
    gender = "男" if i % 2 else "女"
    birth = dt.date(1975, 1, 1) + dt.timedelta(days=i // 500)
    return dict(certificate_no=make_number(region, year, 3, i + 1), version=1, holder_name=person_name(i),
                holder_id_number=make_id_number("321202", birth, i, gender), holder_gender=gender,
                qualification_name="工程师", series="工程", specialty="电气工程", level="中级",
                obtained_by="评审", committee_name="泰州市工程系列中级职称评审委员会",
                approved_on=dt.date(year, 11, 20), issued_on=dt.date(year, 12, 28), issuer=ISSUERS[region],
                issuer_region_code=region, filed_with_province=False, status="valid", replaces=None,
                document_sha256=None)


def add_certificates(app, count: int, *, start: int = 0, region: str = "321200", year: int = 2026,
                     enqueue: bool = True) -> list[str]:
    """`count` certificates (numbers from serial start+1) and, unless told not to, their
    `<no>:v1` province records in the outbox, as issuance leaves them."""
    rows = [certificate_row(i, region, year) for i in range(start, start + count)]
    now = app.clock.now()
    with unit_of_work(app.sessions) as s:
        s.execute(insert(Certificate), rows)
        if enqueue:
            certs = s.scalars(select(Certificate).where(
                Certificate.certificate_no.in_([r["certificate_no"] for r in rows]))).all()
            s.execute(insert(OutboxItem), [dict(
                target="province", kind="certificate", dedupe_key=f"{c.certificate_no}:v{c.version}",
                payload=province_record(c, None), status="pending", attempts=0, created_at=now,
                next_attempt_at=now) for c in sorted(certs, key=lambda c: c.certificate_no)])
    return [r["certificate_no"] for r in rows]
