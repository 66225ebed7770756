"""When scheduled work runs: pure translation of config/deployments.yaml to rules.

Intake runs only inside declaration periods: an RRULE bounded by each period says
exactly that to the scheduler, instead of a job that wakes up and does nothing.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping


def period_rrules(every_minutes: int, periods: Mapping[int, tuple[dt.date, dt.date]],
                  *, from_year: int) -> list[str]:
    """One RRULE per declaration period of `from_year` or later, every N minutes."""
    rules = []
    for year in sorted(periods):
        if year < from_year:
            continue
        opens, closes = periods[year]
        rules.append(
            f"DTSTART:{opens:%Y%m%d}T000000\n"
            f"RRULE:FREQ=MINUTELY;INTERVAL={every_minutes};UNTIL={closes:%Y%m%d}T235959"
        )
    return rules
