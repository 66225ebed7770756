"""The one reader of the times and dates staff type (spreadsheets, --as-of): every form
they write reads back as the moment they meant, in Asia/Shanghai; anything else is
refused in Chinese, naming what was typed and the forms accepted."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhicheng.domain.shanghai_time import (DATE_FORMS, SHANGHAI, TIME_FORMS, TypedTimeError, typed_date,
                                           typed_time)

UTC = dt.timezone.utc
# China has kept +08:00 without summer time since 1992, so every wall time names one instant
wall_times = st.datetimes(min_value=dt.datetime(1992, 1, 1), max_value=dt.datetime(2200, 12, 31))
minutes = wall_times.map(lambda m: m.replace(second=0, microsecond=0))
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda n: dt.timezone(dt.timedelta(minutes=n)))


def _spellings(m: dt.datetime) -> list[str]:
    """How staff write the minute `m` (Shanghai wall time)."""
    return [f"{m:%Y-%m-%d %H:%M}", f"{m:%Y-%m-%d %H:%M:%S}", f"{m:%Y-%m-%dT%H:%M}",
            f"{m.year}/{m.month}/{m.day} {m.hour}:{m:%M}", f"{m:%Y/%m/%d %H:%M}",
            f"{m.year}年{m.month}月{m.day}日 {m.hour}:{m:%M}", f"{m.year}年{m.month}月{m.day}日{m:%H:%M}",
            f"{m:%Y-%m-%d %H：%M}"]


@given(minutes)
def test_every_form_staff_type_reads_back_as_that_shanghai_wall_time(m):
    for text in _spellings(m):
        assert typed_time(text) == m.replace(tzinfo=SHANGHAI), text
        assert typed_time(text).utcoffset() == dt.timedelta(hours=8)


@given(wall_times)
def test_an_iso_time_and_a_spreadsheet_cell_read_back_exactly(m):
    assert typed_time(m.isoformat()) == m.replace(tzinfo=SHANGHAI)
    assert typed_time(m.isoformat(sep=" ")) == m.replace(tzinfo=SHANGHAI)   # a date-time cell, as text
    assert typed_time(m) == m.replace(tzinfo=SHANGHAI)                       # the cell's own datetime


@given(wall_times, offsets)
def test_an_offset_is_kept_as_that_instant(m, zone):
    aware = m.replace(tzinfo=zone)
    assert typed_time(aware.isoformat()) == aware
    assert typed_time(aware) == aware
    if zone == UTC:
        assert typed_time(aware.isoformat().replace("+00:00", "Z")) == aware


@given(st.dates(min_value=dt.date(1992, 1, 1), max_value=dt.date(2200, 12, 31)))
def test_a_date_alone_is_that_day_and_its_midnight_in_shanghai(d):
    for text in (d.isoformat(), f"{d.year}/{d.month}/{d.day}", f"{d.year}年{d.month}月{d.day}日"):
        assert typed_date(text) == d
        assert typed_time(text) == dt.datetime(d.year, d.month, d.day, tzinfo=SHANGHAI)
    assert typed_date(d) == d and typed_time(d) == dt.datetime(d.year, d.month, d.day, tzinfo=SHANGHAI)


def test_the_date_of_a_time_is_its_shanghai_date():
    assert typed_date("2026-06-03 10:00") == dt.date(2026, 6, 3)
    assert typed_date("2026-06-03T20:00:00+00:00") == dt.date(2026, 6, 4)   # 04:00 the next day in Shanghai
    assert typed_date(dt.datetime(2026, 6, 3, 23, 59)) == dt.date(2026, 6, 3)


@pytest.mark.parametrize("typed", ["28/12/2026", "2026-06-0310:00", "10:00", "2026-06-03 10", "明天",
                                   "2026-06-03 10:00 +08:00 extra", "2026-13-01", "2026-02-30",
                                   "2026-06-03 24:00", "2026-06-03 10:00+24:00"])
def test_anything_else_is_refused_naming_what_was_typed_and_the_forms(typed):
    with pytest.raises(TypedTimeError) as err:
        typed_time(typed, what="处理时间")
    assert str(err.value).startswith("处理时间") and typed in str(err.value) and TIME_FORMS in str(err.value)


@pytest.mark.parametrize("typed", ["46176.4", "46176", 46176.41666, 46176])
def test_an_excel_serial_number_is_refused_saying_so(typed):
    """A cell formatted as a number shows staff a number, not a date: reading it as one
    would be a guess (and the workbook's 1900 or 1904 date system is lost by then)."""
    with pytest.raises(TypedTimeError, match="日期序列号"):
        typed_time(typed, what="处理时间")
    with pytest.raises(TypedTimeError, match="日期序列号"):
        typed_date(typed, what="召开日期")


def test_a_date_column_names_the_date_forms():
    with pytest.raises(TypedTimeError) as err:
        typed_date("六月三日", what="召开日期")
    assert "召开日期“六月三日”" in str(err.value) and DATE_FORMS in str(err.value)
    with pytest.raises(TypedTimeError, match="为空"):
        typed_time("  ", what="异议时间")
