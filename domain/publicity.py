"""Publicity windows (公示) and what becomes of each application when one closes.

rules.md: a window runs for at least N working days on the official calendar; the
publication day counts when it is a working day, else the first working day after it
does; the window ends at 24:00 (Asia/Shanghai) of its last working day. Objections
(异议) are lodged while it runs; at closing an application with an unresolved objection
is held, an upheld objection removes it, the rest move on. An application withdrawn by
its applicant (取消申请) leaves the window as `withdrawn`: its entry stays on the record,
settled, and nothing is decided for it at closing.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from zhicheng.domain.application_status import ApplicationStatus
from zhicheng.domain.calendar import WorkingCalendar
from zhicheng.domain.shanghai_time import SHANGHAI, local, local_date


# window kinds the machine runs -> the chain stage they stand for
KIND_STAGES = {"评前": "评前公示", "评后": "评后公示", "初定": "初定公示"}

OPEN, UPHELD, DISMISSED = "open", "upheld", "dismissed"
OBJECTION_STATES = (OPEN, UPHELD, DISMISSED)
# how staff write an objection's decision in files -> state
DECISION_WORDS = {"成立": UPHELD, "异议成立": UPHELD, "不成立": DISMISSED, "异议不成立": DISMISSED,
                  UPHELD: UPHELD, DISMISSED: DISMISSED}

PASSED, HELD, REMOVED, PENDING, WITHDRAWN = "passed", "held", "removed", "pending", "withdrawn"
ACTIVE = (PENDING, HELD)          # still waiting for the window's end or an objection's decision
ENTRY_OUTCOMES = (*ACTIVE, PASSED, REMOVED, WITHDRAWN)
# an entry's outcome as staff read it
ENTRY_WORDS = {PENDING: "公示中", HELD: "因异议暂缓", PASSED: "公示通过", REMOVED: "异议成立移出",
               WITHDRAWN: "已撤回（取消申请）"}


@dataclass(frozen=True)
class WindowDates:
    published_on: dt.date
    opens_on: dt.date     # first working day that counts
    closes_on: dt.date    # last working day
    ends_at: dt.datetime  # 24:00 of closes_on, Asia/Shanghai (aware)


def window_dates(calendar: WorkingCalendar, published_on: dt.date, working_days: int) -> WindowDates:
    """Dates of a window of `working_days` published on `published_on`.

    Raises CalendarYearNotCovered (naming the year) when the calendar lacks a year.
    """
    if working_days < 1:
        raise ValueError("a publicity window lasts at least one working day")
    opens = calendar.first_working_day(published_on)
    closes = calendar.add_working_days(published_on, working_days)
    ends = dt.datetime.combine(closes + dt.timedelta(days=1), dt.time(0, 0), tzinfo=SHANGHAI)
    return WindowDates(published_on, opens, closes, ends)


def is_due(ends_at: dt.datetime, now: dt.datetime) -> bool:
    """A window is over once 24:00 of its last working day has passed."""
    return local(now) >= local(ends_at)


def may_lodge(ends_at: dt.datetime, published_on: dt.date, lodged_at: dt.datetime) -> str | None:
    """Why an objection lodged at `lodged_at` is refused, or None when it is in time."""
    if local(lodged_at) >= local(ends_at):
        return "公示期已结束，异议不予受理"
    if local_date(lodged_at) < published_on:
        return "异议时间早于公示发布日期"
    return None


def closing_outcome(objection_states: Iterable[str]) -> str:
    """passed | held | removed for one application, from the states of its objections.

    An upheld objection removes it, even when others are still open: the outcome
    cannot get better. Otherwise any open objection holds it.
    """
    states = list(objection_states)
    bad = [s for s in states if s not in OBJECTION_STATES]
    if bad:
        raise ValueError(f"unknown objection state {bad[0]!r}")
    if UPHELD in states:
        return REMOVED
    if OPEN in states:
        return HELD
    return PASSED


def on_withdrawal(outcome: str) -> str:
    """An entry's outcome once its application is withdrawn (取消申请): an active entry
    leaves the window as `withdrawn`; a settled one keeps what the window decided."""
    if outcome not in ENTRY_OUTCOMES:
        raise ValueError(f"unknown publicity entry outcome {outcome!r}")
    return WITHDRAWN if outcome in ACTIVE else outcome


def entry_outcome(application_status: str, objection_states: Iterable[str]) -> str:
    """passed | held | removed | withdrawn for one active entry of a closed window: a
    withdrawn application is settled as withdrawn whatever its objections say (nothing is
    left to decide for it), the rest by `closing_outcome`."""
    if application_status == ApplicationStatus.WITHDRAWN:
        return WITHDRAWN
    return closing_outcome(objection_states)
