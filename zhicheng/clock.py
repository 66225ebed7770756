"""The clock every flow and service asks for 'now'; tests and the demo control it."""
from __future__ import annotations

import datetime as dt
from typing import Protocol

# The zone and the pure conversions live with the rules, which use them too.
from zhicheng.domain.shanghai_time import SHANGHAI, TypedTimeError, local, local_date, typed_date, typed_time

__all__ = ["SHANGHAI", "Clock", "FixedClock", "SystemClock", "TypedTimeError", "clock_at", "local",
           "local_date", "today", "typed_date", "typed_time"]


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(SHANGHAI)


class FixedClock:
    """A clock that moves only when told to: tests travel months without sleeping.
    A naive start or `set` is Shanghai wall time (typed_time)."""

    def __init__(self, start: dt.datetime) -> None:
        self._now = typed_time(start)

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, **delta: float) -> dt.datetime:
        self._now += dt.timedelta(**delta)
        return self._now

    def set(self, moment: dt.datetime) -> None:
        self._now = typed_time(moment)


def clock_at(as_of: str | None, *, what: str = "as_of") -> Clock:
    """The clock of a run or a command: fixed at `as_of` (a flow's parameter, the CLI's
    --as-of, named `what` in the error a bad one gets), or the system's."""
    return FixedClock(typed_time(as_of, what=what)) if as_of else SystemClock()


def today(clock: Clock) -> dt.date:
    return local_date(clock.now())
