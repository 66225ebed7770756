import datetime as dt

import pytest
from sqlalchemy import func, select

from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import OutboxItem
from zhicheng.outbox import enqueue, enqueue_many

NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.timezone.utc)


def test_enqueue_is_idempotent_per_target_and_key(app):
    for _ in range(2):
        with unit_of_work(app.sessions) as s:
            enqueue(session=s, target="province", kind="certificate", dedupe_key="X:v1",
                    payload={"certificate_no": "X"}, now=NOW)
            enqueue(session=s, target="hall_return", kind="return", dedupe_key="X:v1",
                    payload={"revision": 1}, now=NOW)
    with app.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxItem)) == 2


def test_unknown_target_is_refused(app):
    with app.sessions() as s, pytest.raises(ValueError, match="unknown outbox target"):
        enqueue(session=s, target="mars", kind="x", dedupe_key="k", payload={}, now=NOW)


def test_enqueue_many_adds_each_target_and_key_once(app):
    with unit_of_work(app.sessions) as s:
        enqueue(session=s, target="province", kind="certificate", dedupe_key="A:v1", payload={"n": 0}, now=NOW)
    items = [dict(target="province", kind="certificate", dedupe_key="A:v1", payload={"n": 1}),
             dict(target="province", kind="certificate", dedupe_key="B:v1", payload={"n": 2}),
             dict(target="province", kind="certificate", dedupe_key="B:v1", payload={"n": 3}),
             dict(target="hall_notification", kind="certificate_issued", dedupe_key="A:v1",
                  payload={"n": 4})]
    for _ in range(2):  # a re-run adds nothing
        with unit_of_work(app.sessions) as s:
            enqueue_many(session=s, items=items, now=NOW)
    with app.sessions() as s:
        rows = s.execute(select(OutboxItem.target, OutboxItem.dedupe_key, OutboxItem.payload)
                         .order_by(OutboxItem.id)).all()
    assert [tuple(r) for r in rows] == [("province", "A:v1", {"n": 0}), ("province", "B:v1", {"n": 2}),
                                        ("hall_notification", "A:v1", {"n": 4})]


def test_enqueue_many_refuses_an_unknown_target_before_adding_any(app):
    with app.sessions() as s:
        with pytest.raises(ValueError, match="unknown outbox target"):
            enqueue_many(session=s, items=[dict(target="province", kind="x", dedupe_key="k", payload={}),
                             dict(target="mars", kind="x", dedupe_key="k", payload={})], now=NOW)
        assert not s.new
