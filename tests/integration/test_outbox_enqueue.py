import datetime as dt

import pytest
from sqlalchemy import func, select

from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import OutboxItem
from zhicheng.services.outbox import enqueue

NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.timezone.utc)


def test_enqueue_is_idempotent_per_target_and_key(app):
    for _ in range(2):
        with unit_of_work(app.sessions) as s:
            enqueue(s, target="province", kind="certificate", dedupe_key="X:v1",
                    payload={"certificate_no": "X"}, now=NOW)
            enqueue(s, target="hall_return", kind="return", dedupe_key="X:v1",
                    payload={"revision": 1}, now=NOW)
    with app.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxItem)) == 2


def test_unknown_target_is_refused(app):
    with app.sessions() as s, pytest.raises(ValueError, match="unknown outbox target"):
        enqueue(s, target="mars", kind="x", dedupe_key="k", payload={}, now=NOW)
