"""The Chinese official working-day calendar, for publicity windows and time limits.

Weekends and statutory holidays are not working days; make-up working days (调休上班)
are. A year the data does not cover is an error naming the year: guessing from
weekends alone would silently shorten a window over a holiday.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


class CalendarYearNotCovered(Exception):
    def __init__(self, year: int, covered: tuple[int, int] | None) -> None:
        span = f"{covered[0]}–{covered[1]}" if covered else "none"
        super().__init__(
            f"the working-day calendar has no data for {year} (covered: {span}); add "
            f"config/calendar/{year}.yaml from the State Council's holiday notice for {year}")
        self.year = year


@dataclass(frozen=True)
class WorkingCalendar:
    holidays: frozenset[dt.date]       # weekdays that are statutory holidays
    makeup_workdays: frozenset[dt.date]  # weekend days that are working days
    years: frozenset[int]

    def _check(self, day: dt.date) -> None:
        if day.year not in self.years:
            span = (min(self.years), max(self.years)) if self.years else None
            raise CalendarYearNotCovered(day.year, span)

    def is_working_day(self, day: dt.date) -> bool:
        self._check(day)
        if day in self.makeup_workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def first_working_day(self, day: dt.date) -> dt.date:
        """`day` itself when it is a working day, else the next one."""
        while not self.is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def add_working_days(self, published: dt.date, n: int) -> dt.date:
        """Last day of a window of `n` working days published on `published`."""
        if n < 1:
            raise ValueError("a window has at least one working day")
        day = self.first_working_day(published)
        for _ in range(n - 1):
            day = self.first_working_day(day + dt.timedelta(days=1))
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after `start` up to and including `end` (0 when end <= start)."""
        count, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            count += self.is_working_day(day)
        return count


def _dates(values: Iterable[Any] | None) -> set[dt.date]:
    return {v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v)) for v in values or ()}


def calendar_from_data(holidays: Iterable[dt.date], workdays: Iterable[dt.date],
                       supplements: Iterable[Mapping] = ()) -> WorkingCalendar:
    """A calendar from the holidays and make-up workdays of the years it covers (e.g.
    chinese-calendar's data: zhicheng.workspace reads it), each year a supplement
    names (one mapping per year, from config/calendar/) replaced by the supplement's."""
    holidays, workdays = set(holidays), set(workdays)
    years = {d.year for d in holidays}
    for sup in supplements:
        if not sup:
            continue
        year = int(sup["year"])
        holidays = {d for d in holidays if d.year != year} | _dates(sup.get("holidays"))
        workdays = {d for d in workdays if d.year != year} | _dates(sup.get("workdays"))
        stray = [d for d in _dates(sup.get("holidays")) | _dates(sup.get("workdays")) if d.year != year]
        if stray:
            raise ValueError(f"year {year}: dates outside the year: {sorted(stray)[0]}")
        years.add(year)
    return WorkingCalendar(frozenset(holidays), frozenset(workdays), frozenset(years))
