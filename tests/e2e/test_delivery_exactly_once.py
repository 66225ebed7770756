"""Done criterion of delivery: 20,000 records through a faulty province, exactly once.

The province stand-in answers 20% of batches with server errors, applies 10% and then
drops the connection, drops others before applying them, truncates answers and answers
slowly. The `push` flow runs until nothing is pending (the clock moves past the outbox
back-off between runs), then `reconcile` compares record by record: the province's store
equals the local registry, every record was applied exactly once, and the report is empty.
"""
from __future__ import annotations

import datetime as dt

import pytest

from tests.integration.delivery_data import statuses
from zhicheng.delivery.reconcile import local_records
from zhicheng.demo.delivery_samples import add_certificates

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

COUNT = 20_000
START = dt.datetime(2026, 12, 28, 20, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture
def faulty(standins, monkeypatch):
    from zhicheng.tasks import delivery as tasks
    waits: list[float] = []
    monkeypatch.setattr(tasks, "CLIENT_OPTIONS", {"sleep": waits.append})  # back-off recorded, not slept
    p = standins.province
    p.faults.reseed(2)  # a stream where every kind of fault happens within the first batches
    p.faults.set("batch_upsert", error_rate=0.2, drop_after_rate=0.1, drop_before_rate=0.05,
                 truncate_rate=0.05, delay=0.3, delay_rate=0.1)
    p.faults.set("list_certificates", error_rate=0.1, drop_before_rate=0.05, delay=0.2, delay_rate=0.1)
    return p, waits


def test_twenty_thousand_records_arrive_exactly_once(app, faulty):
    from zhicheng.flows.delivery import push, reconcile
    province, waits = faulty
    half = COUNT // 2
    nos = add_certificates(app, half, region="321200") + add_certificates(app, half, region="320100")
    as_of, runs = START, []
    while statuses(app).get("pending", 0) and len(runs) < 20:
        runs.append(push(as_of=as_of.isoformat())["province"])
        as_of += dt.timedelta(hours=2)
    assert statuses(app) == {"sent": COUNT}, statuses(app)
    assert sum(r["sent"] for r in runs) == COUNT and not any(r["rejected"] or r["dead"] for r in runs)

    report = reconcile(batch_year=None, as_of=as_of.isoformat(), full=True)
    assert report["clean"] and report["rows"] == [] and report["requeued"] == 0, report["differences"]
    assert sorted((s["region"], s["local"], s["remote"]) for s in report["scopes"]) == [
        ("320100", half, half), ("321200", half, half)]
    applied = province.applied_counts()
    assert len(applied) == COUNT and set(applied.values()) == {1}
    with app.sessions() as s:
        local = {**local_records(session=s, region="321200", year=2026),
                 **local_records(session=s, region="320100", year=2026)}
    assert {r["certificate_no"]: r for r in province.records()} == local and sorted(local) == sorted(nos)
    stats = province.stats["batch_upsert"]
    assert stats.get("dropped_after") and stats.get("truncated") and stats.get("dropped_before")
    assert waits  # the faults cost retries
