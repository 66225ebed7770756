"""Test data for review chains: validated applications not yet on their chain."""
from __future__ import annotations

import datetime as dt

from zhicheng.db.models import Applicant, Application, ApplicationRevision
from zhicheng.domain.identity import make_id_number

REPORTING = {"省": "省直", "市": "市级", "县区": "县区级"}


def validated(session, config, *, n: int, track: str = "评审", committee: str | None = "TZ-GC-ZJ",
              reporting: str | None = None, submission_id: str | None = None,
              name: str | None = None) -> Application:
    """A validated application (revision 1) of `track`, with its applicant."""
    c = config.committees.get(committee) if committee else None
    person = Applicant(id_number=make_id_number("321202", dt.date(1986, 1, 1) + dt.timedelta(days=n), n, "女"),
                       name=name or f"申报人{n:03d}", gender="女", phone=f"1380000{n:04d}")
    session.add(person)
    session.flush()
    app = Application(submission_id=submission_id or f"JS2026{n:06d}", current_revision=1,
                      applicant_id=person.id, committee_id=committee, track=track, batch_year=2026,
                      level="中级", series="工程", specialty="电气工程", qualification_name="工程师",
                      reporting_level=reporting or (REPORTING[c.tier] if c else "市级"),
                      region_code="321202", status="validated", holds_year_slot=track in ("评审", "初定"),
                      submitted_at=dt.datetime(2026, 5, 20, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    session.add(app)
    session.flush()
    session.add(ApplicationRevision(application_id=app.id, revision=1, payload={"submission_id": app.submission_id},
                                    payload_sha256="0" * 64, valid=True, received_at=app.submitted_at))
    session.flush()
    return app


def resubmit(session, app: Application) -> None:
    """What intake does with a higher revision: the new revision becomes current."""
    app.current_revision += 1
    session.add(ApplicationRevision(application_id=app.id, revision=app.current_revision,
                                    payload={"submission_id": app.submission_id}, payload_sha256="1" * 64,
                                    valid=True, received_at=app.submitted_at))
    session.flush()
