"""Personal data outside the registry on both engines (docs/privacy.md): database errors
do not quote the values bound to their statement."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from zhicheng.db.engine import session_factory
from zhicheng.domain.identity import make_id_number

ID = make_id_number("320211", dt.date(1985, 3, 4), 275, "女")


def test_a_database_error_shows_the_sql_but_not_the_values_bound_to_it(engine):
    with session_factory(engine)() as s, pytest.raises(DBAPIError) as caught:
        s.execute(text("SELECT no_such_column FROM applicants WHERE id_number = :n OR phone = :p"),
                  {"n": ID, "p": "13812345678"})
    message = str(caught.value)
    assert "no_such_column" in message and "hidden" in message
    assert ID not in message and "13812345678" not in message


@pytest.mark.parametrize("action", ["return", "reject"])
def test_an_officers_reason_goes_to_the_applicant_with_their_numbers_masked(app, action):
    """A reason quoting the applicant's ID or phone number is kept as typed in the
    decision; the return or notification the hall sends on by SMS masks both."""
    from sqlalchemy import select

    from review_data import validated
    from zhicheng.db.engine import unit_of_work
    from zhicheng.db.models import Applicant, OutboxItem
    from zhicheng.review import service as review
    from zhicheng.review.models import Decision
    with unit_of_work(app.sessions) as s:
        a = validated(s, app.config, n=1)
        review.enter_chain(session=s, application_id=a.id, now=app.clock.now(), config=app.config)
        person = s.get(Applicant, a.applicant_id)
        number, phone = person.id_number, person.phone
        reason = f"身份证号{number}与扫描件不符，请联系{phone}核对"
        review.decide(session=s, application_id=a.id, stage=a.stage, action=action, actor="王芳", office="人事处",
                      reason=reason, decided_at=app.clock.now(), now=app.clock.now(), config=app.config)
    with app.sessions() as s:
        assert s.scalar(select(Decision.reason)) == reason
        (payload,) = s.scalars(select(OutboxItem.payload).where(OutboxItem.target.like("hall_%")))
    sent = (payload["reasons"][0]["message"] if action == "return" else payload["params"]["reason"])
    assert number not in sent and phone not in sent
    assert f"{number[:4]}{'*' * 10}{number[-4:]}" in sent and f"{phone[:3]}****{phone[-4:]}" in sent
    if action == "reject":
        assert payload["id_number"] == number   # the hall's addressee key stays whole
