"""学信 is never on the year-end's path (issue 25): education is checked as applications
arrive (the hourly `education-sync` deployment beside intake), and the year-end run
reads what that sync stored. An approved application whose education 学信 has not
settled is reported by the issue step and left for a later run, never waited for: the
run completes the same with 学信 up, answering errors, or gone, and asks it nothing."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import Application, ApplicationRevision
from zhicheng.demo.issuance_samples import add_approved
from zhicheng.education.models import EducationCheck
from zhicheng.issuance.models import Certificate

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]
AS_OF = "2026-12-28T20:00:00+08:00"
EDUCATION = [{"kind": "学历", "level": "本科", "school": "南京大学", "major": "电气工程",
              "graduated_on": "2003-07-01"}]
# of six approved applications: what 学信 has settled (None: the sync has not reached it)
SETTLED = ["verified", "not_held", "unavailable", None, "no education", "no education"]


def _year(app) -> list[int]:
    """Six approved applications, four declaring education, as the sync left them."""
    now = dt.datetime.fromisoformat(AS_OF)
    with unit_of_work(app.sessions) as s:
        ids = add_approved(session=s, config=app.config, count=len(SETTLED))
        for app_id, outcome in zip(ids, SETTLED, strict=True):
            if outcome == "no education":
                continue
            # revisions are append-only: the education comes as the current revision 2
            first = s.scalars(select(ApplicationRevision).where(ApplicationRevision.application_id == app_id)).one()
            s.add(ApplicationRevision(application_id=app_id, revision=2, payload={**first.payload, "revision": 2,
                                                                                  "education": EDUCATION},
                                      payload_sha256="1" * 64, valid=True, received_at=first.received_at))
            s.execute(update(Application).where(Application.id == app_id).values(current_revision=2))
            s.add(EducationCheck(application_id=app_id, revision=1, subject="entry:0", outcome="verified",
                                 fields=[], record=None, checked_at=now))   # an earlier revision's: not this one's
            if outcome:
                s.add(EducationCheck(application_id=app_id, revision=2, subject="entry:0", outcome=outcome,
                                     fields=[], record=None, checked_at=now))
    return ids


@pytest.mark.parametrize("chsi_state", ["up", "answering errors", "gone"])
def test_the_year_end_completes_the_same_whatever_state_chsi_is_in(app, standins, chsi_state):
    from zhicheng.flows.year_end import year_end
    from zhicheng.runtime import result_of
    ids = _year(app)
    if chsi_state == "answering errors":
        standins.chsi.faults.set("*", error_rate=1.0)
    elif chsi_state == "gone":
        standins.chsi.stop()
    got = result_of(year_end(batch_year=2026, as_of=AS_OF, wait_seconds=5, return_state=True))
    assert [r["state"] for r in got["steps"]] == ["done"] * 5
    issue = next(r["summary"] for r in got["steps"] if r["step"] == "issue")
    assert issue["issued"] == 4
    assert {p["application_id"] for p in issue["problems"]} == {ids[2], ids[3]}
    assert all("学信" in p["problem"] for p in issue["problems"])
    with app.sessions() as s:
        certified = set(s.scalars(select(Certificate.application_id)))
        waiting = set(s.scalars(select(Application.id).where(Application.status == "approved")))
    assert certified == {ids[0], ids[1], ids[4], ids[5]}
    assert waiting == {ids[2], ids[3]}   # still approved: issued once 学信 has settled them
    asked = {endpoint: n for endpoint, by_status in standins.chsi.stats.items() if endpoint != "admin"
             for n in by_status.values()}
    assert asked == {}


def test_a_settled_education_is_issued_by_the_next_run(app, standins):
    from zhicheng.flows.issuance import issue
    ids = _year(app)
    issue(batch_year=2026, as_of=AS_OF)
    now = dt.datetime.fromisoformat(AS_OF)
    with unit_of_work(app.sessions) as s:   # the hourly sync got 学信's answers meanwhile
        s.execute(update(EducationCheck).where(EducationCheck.application_id == ids[2], EducationCheck.revision == 2)
                  .values(outcome="verified"))
        s.add(EducationCheck(application_id=ids[3], revision=2, subject="entry:0", outcome="verified",
                             fields=[], record=None, checked_at=now))
    again = issue(batch_year=2026, as_of=AS_OF)
    assert again["issued"] == 2 and not again["problems"]
