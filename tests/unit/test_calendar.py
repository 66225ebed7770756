import datetime as dt

import pytest

from zhicheng.domain.calendar import CalendarYearNotCovered
from zhicheng.workspace import calendar_from_package

CAL = calendar_from_package()
D = dt.date


def test_weekday_window_counts_publication_day():
    # Monday 2025-06-09: Mon..Fri is five working days.
    assert CAL.add_working_days(D(2025, 6, 9), 5) == D(2025, 6, 13)


def test_weekend_publication_starts_next_working_day():
    assert CAL.add_working_days(D(2025, 6, 7), 5) == D(2025, 6, 13)


def test_national_day_holiday_is_skipped_and_makeup_day_counts():
    # 2025: 10-01..10-08 off, Saturday 10-11 is a make-up working day.
    assert not CAL.is_working_day(D(2025, 10, 3))
    assert CAL.is_working_day(D(2025, 10, 11))
    # Published Tue 09-30: 09-30, 10-09, 10-10, 10-11 (make-up Sat), 10-13.
    assert CAL.add_working_days(D(2025, 9, 30), 5) == D(2025, 10, 13)


def test_uncovered_year_names_the_year():
    with pytest.raises(CalendarYearNotCovered, match="2099"):
        CAL.add_working_days(D(2099, 3, 2), 5)


def test_supplement_adds_a_year():
    cal = calendar_from_package([{"year": 2099, "holidays": ["2099-03-02"], "workdays": ["2099-03-07"]}])
    assert not cal.is_working_day(D(2099, 3, 2))
    assert cal.is_working_day(D(2099, 3, 7))
    assert cal.add_working_days(D(2099, 3, 2), 2) == D(2099, 3, 4)


def test_supplement_with_stray_dates_is_refused():
    with pytest.raises(ValueError, match="outside the year"):
        calendar_from_package([{"year": 2099, "holidays": ["2098-12-31"]}])


def test_docs_state_the_years_the_package_covers():
    """docs/calendar.md tells administrators which years need a config/calendar file;
    a package upgrade that changes the span must change that sentence too."""
    import re
    from pathlib import Path
    doc = (Path(__file__).parents[2] / "docs" / "calendar.md").read_text(encoding="utf-8")
    first, last = map(int, re.search(r"from (\d{4}) to (\d{4})", doc).groups())
    assert CAL.years == frozenset(range(first, last + 1))
    with pytest.raises(CalendarYearNotCovered, match=f"covered: {first}–{last}"):
        CAL.is_working_day(D(last + 1, 1, 5))
