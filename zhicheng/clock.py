"""The clock every flow and service asks for 'now'; tests and the demo control it."""
from __future__ import annotations

import datetime as dt
from typing import Protocol
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(SHANGHAI)


def typed_moment(moment: dt.datetime) -> dt.datetime:
    """A time a person typed (--as-of, a demo moment) without an offset means Asia/Shanghai
    wall time; one with an offset is kept. Only for human input: times from code and the
    database are always aware (naive ones are refused by zhicheng.db.types)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


class FixedClock:
    """A clock that moves only when told to: tests travel months without sleeping.
    A naive start or `set` is Shanghai wall time (typed_moment)."""

    def __init__(self, start: dt.datetime) -> None:
        self._now = typed_moment(start)

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, **delta: float) -> dt.datetime:
        self._now += dt.timedelta(**delta)
        return self._now

    def set(self, moment: dt.datetime) -> None:
        self._now = typed_moment(moment)


def local(moment: dt.datetime) -> dt.datetime:
    """The instant as Asia/Shanghai wall time. Stored times come back in UTC (see
    zhicheng.db.types), so every date, deadline or printed time shown to staff goes
    through here; a naive time names no instant and is refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: give it a zone (zhicheng.clock.SHANGHAI)")
    return moment.astimezone(SHANGHAI)


def local_date(moment: dt.datetime) -> dt.date:
    """The Asia/Shanghai calendar date of an instant (00:30 in Shanghai is 16:30 UTC the
    day before: the Shanghai day is the one staff and applicants see)."""
    return local(moment).date()


def today(clock: Clock) -> dt.date:
    return local_date(clock.now())
