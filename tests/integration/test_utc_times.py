"""Datetimes on both engines: stored as UTC, handed back aware in UTC, naive refused; a
calendar date taken from a stored time is the Asia/Shanghai date on SQLite as on
PostgreSQL (an approval at 00:30 in Shanghai is 16:30 UTC the day before)."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from zhicheng.clock import SHANGHAI
from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import OutboxItem
from zhicheng.db.types import NaiveDatetimeError
from zhicheng.demo.issuance_samples import add_approved
from zhicheng.expectations.sql import Dialect
from zhicheng.issuance import service as issuance
from zhicheng.issuance.models import Certificate
from zhicheng.quality import service as quality

UTC = dt.timezone.utc
INSTANT = dt.datetime(2026, 5, 19, 16, 30, tzinfo=UTC)            # 2026-05-20 00:30 in Shanghai
OFFSETS = [UTC, SHANGHAI, dt.timezone(dt.timedelta(hours=-5)), dt.timezone(dt.timedelta(hours=5, minutes=45))]


def _item(key: str, created_at: dt.datetime) -> OutboxItem:
    return OutboxItem(target="province", kind="certificate", dedupe_key=key, payload={},
                      status="pending", created_at=created_at)


def test_any_offset_comes_back_as_the_same_instant_in_utc(engine):
    with Session(engine) as s:
        s.add_all(_item(f"k{i}", INSTANT.astimezone(tz)) for i, tz in enumerate(OFFSETS))
        s.commit()
    with Session(engine) as s:
        back = s.scalars(select(OutboxItem.created_at).order_by(OutboxItem.id)).all()
    assert back == [INSTANT] * len(OFFSETS)
    assert all(b.utcoffset() == dt.timedelta(0) and b.tzinfo == UTC for b in back)


def test_instants_written_with_different_offsets_compare_as_instants(engine):
    earlier = dt.datetime(2026, 5, 20, 7, 0, tzinfo=SHANGHAI)        # 23:00 UTC the day before
    later = dt.datetime(2026, 5, 19, 23, 30, tzinfo=UTC)             # 07:30 in Shanghai
    with Session(engine) as s:
        s.add_all([_item("later", later), _item("earlier", earlier)])
        s.commit()
        cut = dt.datetime(2026, 5, 20, 7, 15, tzinfo=SHANGHAI)
        assert s.scalars(select(OutboxItem.dedupe_key).where(OutboxItem.created_at < cut)).all() == ["earlier"]
        assert s.scalars(select(OutboxItem.dedupe_key).order_by(OutboxItem.created_at)).all() == ["earlier", "later"]


def test_quality_sql_compares_stored_times_as_instants(engine):
    """The literals and day arithmetic of expectations.sql against what each engine stored."""
    ten = dt.datetime(2026, 5, 20, 10, 0, tzinfo=SHANGHAI)
    with Session(engine) as s:
        s.add_all([_item("before", (ten - dt.timedelta(minutes=1)).astimezone(UTC)),
                   _item("after", (ten + dt.timedelta(minutes=1)).astimezone(dt.timezone(dt.timedelta(hours=-5))))])
        s.commit()
        d = Dialect(engine.dialect.name)
        before = f"SELECT dedupe_key FROM outbox WHERE created_at < {d.timestamp(ten)}"
        shifted = (f"SELECT dedupe_key FROM outbox WHERE {d.minus_days('created_at', 1)} "
                   f"< {d.timestamp(ten - dt.timedelta(days=1))}")
        assert s.execute(text(before)).scalars().all() == ["before"]
        assert s.execute(text(shifted)).scalars().all() == ["before"]


def test_sqlite_keeps_utc_text(engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("the stored text is SQLite's business")
    with Session(engine) as s:
        s.add(_item("k", INSTANT.astimezone(SHANGHAI)))
        s.commit()
        stored = s.execute(text("SELECT created_at FROM outbox")).scalar()
    assert stored == "2026-05-19 16:30:00.000000"


def test_a_naive_datetime_is_refused(engine):
    with Session(engine) as s:
        s.add(_item("naive", dt.datetime(2026, 5, 20, 0, 30)))
        with pytest.raises(StatementError) as err:
            s.flush()
    assert isinstance(err.value.orig, NaiveDatetimeError)
    assert "naive datetime 2026-05-20T00:30:00" in str(err.value)
    with Session(engine) as s, pytest.raises(StatementError):
        s.scalars(select(OutboxItem).where(OutboxItem.created_at < dt.datetime(2026, 5, 20))).all()


@pytest.mark.parametrize("approved_tz", [SHANGHAI, UTC], ids=["approved_in_shanghai", "approved_in_utc"])
def test_approval_and_issue_on_the_same_shanghai_day_share_the_date(app, clock, approved_tz):
    """Approved at 00:30 and at 20:00 Shanghai time (whatever offset the decision carried),
    issued at 23:30 the same Shanghai day: approved_on and issued_on are that day, and the
    quality check that issuing never comes before approval passes."""
    day = dt.date(2026, 5, 20)
    early = dt.datetime(2026, 5, 20, 0, 30, tzinfo=SHANGHAI).astimezone(approved_tz)
    late = dt.datetime(2026, 5, 20, 20, 0, tzinfo=SHANGHAI).astimezone(approved_tz)
    with unit_of_work(app.sessions) as s:
        ids = (add_approved(session=s, config=app.config, count=1, committee_id="NJ-GC-ZJ", approved_at=early)
               + add_approved(session=s, config=app.config, count=1, start=10, committee_id="NJ-GC-ZJ",
                              approved_at=late))
    clock.set(dt.datetime(2026, 5, 20, 23, 30, tzinfo=SHANGHAI))
    with unit_of_work(app.sessions) as s:
        result = issuance.issue_chunk(session=s, ctx=issuance.IssueContext.for_app(app), application_ids=ids,
                                      now=clock.now())
    assert len(result.issued) == 2 and not result.problems
    with app.sessions() as s:
        dates = s.execute(select(Certificate.approved_on, Certificate.issued_on)).all()
    assert [tuple(d) for d in dates] == [(day, day), (day, day)]
    report = quality.run(app=app, suite="certificates", as_of=clock.now())
    dates_check = next(c for c in report["suites"][0]["checks"] if c["check"] == "issued_not_before_approval")
    assert dates_check["success"], dates_check


def test_quality_reports_show_times_in_shanghai_on_both_engines(app):
    with unit_of_work(app.sessions) as s:
        s.add(_item("stale", INSTANT))
    report = quality.run(app=app, suite="outbox", as_of=INSTANT + dt.timedelta(days=3))
    stale = next(c for c in report["suites"][0]["checks"] if c["check"] == "nothing_pending_too_long")
    assert [r["created_at"] for r in stale["rows"]] == ["2026-05-20T00:30:00+08:00"]
