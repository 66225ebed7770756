"""Turning instants into Shanghai dates: the one way a stored time becomes a date."""
from __future__ import annotations

import datetime as dt

import pytest

from zhicheng.clock import SHANGHAI, FixedClock, local, local_date, today

UTC = dt.timezone.utc


def test_the_shanghai_date_of_an_instant_not_the_date_of_its_offset():
    past_midnight = dt.datetime(2026, 5, 19, 16, 30, tzinfo=UTC)    # 00:30 on 05-20 in Shanghai
    assert local_date(past_midnight) == dt.date(2026, 5, 20)
    assert local_date(dt.datetime(2026, 5, 20, 15, 59, tzinfo=UTC)) == dt.date(2026, 5, 20)
    assert local_date(dt.datetime(2026, 5, 20, 16, 0, tzinfo=UTC)) == dt.date(2026, 5, 21)
    assert local(past_midnight) == past_midnight and local(past_midnight).utcoffset() == dt.timedelta(hours=8)


def test_a_naive_time_has_no_date():
    with pytest.raises(ValueError, match="naive datetime"):
        local_date(dt.datetime(2026, 5, 20, 0, 30))


def test_a_fixed_clock_set_without_an_offset_is_shanghai_wall_time():
    assert FixedClock(dt.datetime(2026, 5, 20, 0, 30)).now() == dt.datetime(2026, 5, 20, 0, 30, tzinfo=SHANGHAI)
    kept = dt.datetime(2026, 5, 20, 0, 30, tzinfo=UTC)
    assert FixedClock(kept).now() == kept
    clock = FixedClock(dt.datetime(2026, 12, 31, 23, 30))
    assert today(clock) == dt.date(2026, 12, 31)
    clock.set(dt.datetime(2026, 12, 31, 16, 30, tzinfo=UTC))
    assert today(clock) == dt.date(2027, 1, 1)

