"""The demo's simulated clock against the policy and the official working-day calendar:
every step on a working day after the declaration period, each publicity window over
before the step that closes it, and the year-end's stage deadlines inside known years."""
import datetime as dt

from zhicheng.config import get_config
from zhicheng.demo.driver import MOMENTS, YEAR
from zhicheng.domain import review as rules
from zhicheng.domain.publicity import is_due, may_lodge, window_dates
from zhicheng.workspace import working_calendar

CONFIG = get_config()
CALENDAR = working_calendar(CONFIG.directory)
AT = {k: dt.datetime.fromisoformat(v) for k, v in MOMENTS.items()}
DAYS = int(CONFIG.policy.publicity.min_working_days)


def test_every_step_is_on_a_working_day_after_the_declaration_period():
    closes_on = CONFIG.policy.batches[YEAR].closes_on
    for name, when in AT.items():
        assert when.date() > closes_on, name
        assert CALENDAR.is_working_day(when.date()), name


def test_the_steps_come_in_the_order_of_the_year():
    order = ["intake", "resubmit", "review", "publicity_before", "objections_received", "objections",
             "close_before", "vote", "publicity_after", "year_end"]
    assert [AT[k] for k in order] == sorted(AT[k] for k in order)


def test_objections_are_in_time_and_each_window_is_over_when_it_is_closed():
    before = window_dates(CALENDAR, AT["publicity_before"].date(), DAYS)
    assert may_lodge(before.ends_at, before.published_on, AT["objections_received"]) is None
    assert not is_due(before.ends_at, AT["objections"])
    assert is_due(before.ends_at, AT["close_before"])
    after = window_dates(CALENDAR, AT["publicity_after"].date(), DAYS)
    assert is_due(after.ends_at, AT["year_end"])


def test_the_stages_the_year_end_enters_have_deadlines_in_known_years():
    for kind in ("filing", "issue"):
        days = CONFIG.policy.stage_time_limits_days.for_kind(kind)
        due = rules.due_at(AT["year_end"], days, CALENDAR)   # 24:00 of the last working day
        assert (due - dt.timedelta(days=1)).year == YEAR
