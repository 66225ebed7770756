"""Schedules limited to the declaration periods (intake and validate every 15 minutes)."""
from __future__ import annotations

import datetime as dt
from itertools import pairwise

from dateutil.rrule import rrulestr

from zhicheng.domain.schedules import period_rrules

PERIODS = {2025: (dt.date(2025, 5, 6), dt.date(2025, 9, 30)),
           2026: (dt.date(2026, 5, 6), dt.date(2026, 9, 30)),
           2027: (dt.date(2027, 5, 6), dt.date(2027, 9, 30))}


def test_runs_fall_only_inside_the_periods_of_this_year_and_later():
    rules = period_rrules(15, PERIODS, from_year=2026)
    runs = [list(rrulestr(r)) for r in rules]
    assert [r[0] for r in runs] == [dt.datetime(2026, 5, 6), dt.datetime(2027, 5, 6)]
    assert [r[-1] for r in runs] == [dt.datetime(2026, 9, 30, 23, 45), dt.datetime(2027, 9, 30, 23, 45)]
    assert {b - a for a, b in pairwise(runs[0])} == {dt.timedelta(minutes=15)}
    assert len(runs[0]) == ((PERIODS[2026][1] - PERIODS[2026][0]).days + 1) * 96


def test_no_period_left_means_no_schedule():
    assert period_rrules(15, PERIODS, from_year=2028) == []
