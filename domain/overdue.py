"""Who must act at a stage, and how late they are: for the overdue report.

A stage name says which level acts (县区 / 市 / 省, or 省/市 meaning the province or
the city); the application says which unit, department, committee and region.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from zhicheng.domain.shanghai_time import local_date


@dataclass(frozen=True)
class Parties:
    """The application's own parties, as names (None when unknown)."""

    region_code: str              # the employer's region (county, city or province code)
    employer: str | None
    supervising_dept: str | None
    committee: str | None


def level_code(stage: str, region_code: str) -> str | None:
    """The region code of the level named at the start of `stage`; None when unnamed."""
    city, province = region_code[:4] + "00", region_code[:2] + "0000"
    for prefix, code in (("省/县", region_code), ("省/市", city), ("县区", region_code),
                         ("县", region_code), ("市", city), ("省", province)):
        if stage.startswith(prefix):
            return code
    return None


def responsible_office(stage: str, p: Parties, *, title_offices: Mapping[str, str],
                       region_name: Callable[[str], str]) -> str:
    """The office that must decide at `stage` for this application."""
    level = level_code(stage, p.region_code)
    if "单位审核" in stage:
        return p.employer or "申报单位"
    if "主管部门" in stage:
        dept = "行业主管部门" if "行业" in stage else "行政主管部门"
        if level is None:  # 省直: the employer's own supervising department
            return p.supervising_dept or f"省级{dept}"
        return f"{region_name(level)}{dept}"
    if stage.startswith("评委会"):
        return p.committee or "评委会"
    if "职称" in stage:
        return _title_office(level, p.region_code, title_offices, region_name)
    return stage


def _title_office(level: str | None, region: str, offices: Mapping[str, str],
                  region_name: Callable[[str], str]) -> str:
    if level is not None:
        return offices.get(level) or f"{region_name(level)}职称办"
    for code in (region, region[:4] + "00", region[:2] + "0000"):  # the nearest office
        if code in offices:
            return offices[code]
    return f"{region_name(region)}职称办"


def working_days_late(due_at: dt.datetime, now: dt.datetime, calendar) -> int:
    """Working days from the deadline's last day (exclusive) to today (inclusive), both
    as Shanghai dates."""
    last_day = local_date(due_at - dt.timedelta(seconds=1))
    return calendar.working_days_between(last_day, local_date(now))
