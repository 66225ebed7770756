"""Two deciders of the same stage at the same moment (threads, a session each): one
decision is recorded, the other decider gets the "already decided" refusal, never an
IntegrityError. First with the row lock as the service takes it (PostgreSQL, where
FOR UPDATE means something), then with the lock taken away and both deciders reading
the application before either writes, so only the database's unique key stands in
the way (both engines)."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from review_data import validated
from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import Application
from zhicheng.domain.review import IllegalMove
from zhicheng.review import service as review
from zhicheng.review.models import Decision, ReviewStep

STAGE = "市单位审核、公示"  # TZ-GC-ZJ's first review stage


def _entered(app) -> int:
    with unit_of_work(app.sessions) as s:
        a = validated(s, app.config, n=1)
        review.enter_chain(session=s, application_id=a.id, now=app.clock.now(), config=app.config)
        return a.id


def _race(app, app_id: int, start: threading.Barrier) -> list[object]:
    """Two staff decide STAGE at once; what each got (a Decision id or the exception)."""
    results: list[object] = [None, None]

    def decider(k: int) -> None:
        try:
            start.wait(timeout=30)
            with unit_of_work(app.sessions) as s:
                results[k] = review.decide(
                    session=s, application_id=app_id, stage=STAGE, action="approve", actor=f"经办人{k}",
                    office="泰州某公司人事处", reason=None, decided_at=app.clock.now(),
                    now=app.clock.now(), config=app.config).id
        except BaseException as exc:  # the test looks at what each decider got
            results[k] = exc

    threads = [threading.Thread(target=decider, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a decider hung"
    return results


def _one_decision_and_one_refusal(app, app_id: int, results: list[object]) -> None:
    won = [r for r in results if isinstance(r, int)]
    lost = [r for r in results if not isinstance(r, int)]
    assert len(won) == 1 and len(lost) == 1, results
    assert isinstance(lost[0], IllegalMove), repr(lost[0])
    assert "already decided" in lost[0].en, lost[0].en
    with app.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Decision)) == 1
        a = s.get(Application, app_id)
        assert (a.stage, a.status) == ("市行政主管部门审核", "in_review")
        steps = [(r.stage, r.outcome) for r in s.scalars(select(ReviewStep).order_by(ReviewStep.id))]
    assert steps == [(STAGE, "approve"), ("市行政主管部门审核", None)]


@pytest.mark.parametrize("empty_engine", ["postgresql"], indirect=True)
def test_two_deciders_at_once_on_postgresql(app):
    app_id = _entered(app)
    results = _race(app, app_id, threading.Barrier(2))
    _one_decision_and_one_refusal(app, app_id, results)


def test_without_the_row_lock_the_database_key_still_lets_only_one_decide(app, monkeypatch):
    """Both deciders see the stage undecided (the barrier holds each after reading until
    the other has read too); the second INSERT is what the unique key refuses."""
    app_id = _entered(app)
    read_both = threading.Barrier(2)
    plain_position = review.position

    def unlocked(*, session, application_id):
        return session.get(Application, application_id, populate_existing=True)

    def position_then_wait(*, session, app):
        pos = plain_position(session=session, app=app)
        read_both.wait(timeout=30)
        return pos

    monkeypatch.setattr(review, "lock_application", unlocked)
    monkeypatch.setattr(review, "position", position_then_wait)
    results = _race(app, app_id, threading.Barrier(2))
    _one_decision_and_one_refusal(app, app_id, results)
