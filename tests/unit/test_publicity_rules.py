"""Publicity windows on the official calendar (rules.md: Publicity)."""
from __future__ import annotations

import datetime as dt

import pytest

from zhicheng.domain.calendar import CalendarYearNotCovered
from zhicheng.domain.publicity import (HELD, PASSED, REMOVED, SHANGHAI, closing_outcome, is_due,
                                       may_lodge, window_dates)
from zhicheng.workspace import calendar_from_package

CAL = calendar_from_package()
D = dt.date


def test_weekday_publication_counts_as_first_day():
    w = window_dates(CAL, D(2026, 6, 1), 5)            # Monday
    assert (w.opens_on, w.closes_on) == (D(2026, 6, 1), D(2026, 6, 5))
    assert w.ends_at == dt.datetime(2026, 6, 6, 0, 0, tzinfo=SHANGHAI)


def test_national_day_2026_with_makeup_saturday():
    # 2026: 10-01..10-07 off; Sat 09-20 and Sat 10-10 are make-up working days.
    w = window_dates(CAL, D(2026, 9, 29), 5)           # Tue
    # 09-29, 09-30, 10-08, 10-09, 10-10 (make-up Saturday)
    assert (w.opens_on, w.closes_on) == (D(2026, 9, 29), D(2026, 10, 10))
    w2 = window_dates(CAL, D(2026, 9, 19), 5)          # Sat, published on a weekend
    # first counted day Sun 09-20 (make-up), then 09-21..09-24
    assert (w2.opens_on, w2.closes_on) == (D(2026, 9, 20), D(2026, 9, 24))


def test_spring_festival_2026_with_makeup_days():
    # 2026: 02-15..02-23 off; Sat 02-14 and Sat 02-28 are make-up working days.
    w = window_dates(CAL, D(2026, 2, 12), 5)           # Thu
    # 02-12, 02-13, 02-14 (make-up), 02-24, 02-25
    assert w.closes_on == D(2026, 2, 25)
    w2 = window_dates(CAL, D(2026, 2, 16), 5)          # published inside the holiday
    assert w2.opens_on == D(2026, 2, 24)
    # 02-24, 02-25, 02-26, 02-27, 02-28 (make-up Saturday)
    assert w2.closes_on == D(2026, 2, 28)


def test_national_day_2025_makeup():
    w = window_dates(CAL, D(2025, 9, 30), 5)
    assert w.closes_on == D(2025, 10, 13)
    assert w.ends_at == dt.datetime(2025, 10, 14, tzinfo=SHANGHAI)


def test_year_not_covered_names_the_year():
    with pytest.raises(CalendarYearNotCovered, match="2031"):
        window_dates(CAL, D(2031, 3, 3), 5)
    # a window running into an uncovered year fails too, naming it
    with pytest.raises(CalendarYearNotCovered, match="2027"):
        window_dates(CAL, D(2026, 12, 29), 5)


def test_due_at_midnight_after_last_day():
    w = window_dates(CAL, D(2026, 6, 1), 5)
    assert not is_due(w.ends_at, dt.datetime(2026, 6, 5, 23, 59, 59, tzinfo=SHANGHAI))
    assert is_due(w.ends_at, dt.datetime(2026, 6, 6, 0, 0, tzinfo=SHANGHAI))
    assert is_due(w.ends_at, dt.datetime(2026, 6, 5, 16, 0, tzinfo=dt.timezone.utc))  # 00:00 +08
    with pytest.raises(ValueError, match="naive"):   # a time without a zone names no instant
        is_due(w.ends_at, dt.datetime(2026, 6, 5, 23, 0))


def test_lodging_window():
    w = window_dates(CAL, D(2026, 6, 1), 5)
    assert may_lodge(w.ends_at, w.published_on, dt.datetime(2026, 6, 5, 23, 0, tzinfo=SHANGHAI)) is None
    assert "已结束" in may_lodge(w.ends_at, w.published_on, dt.datetime(2026, 6, 6, 0, 1, tzinfo=SHANGHAI))
    assert may_lodge(w.ends_at, w.published_on, dt.datetime(2026, 5, 30, tzinfo=SHANGHAI))


@pytest.mark.parametrize("states, outcome", [
    ([], PASSED), (["dismissed"], PASSED), (["open"], HELD), (["dismissed", "open"], HELD),
    (["upheld"], REMOVED), (["open", "upheld"], REMOVED)])
def test_closing_outcome(states, outcome):
    assert closing_outcome(states) == outcome


def test_window_needs_a_day():
    with pytest.raises(ValueError):
        window_dates(CAL, D(2026, 6, 1), 0)
