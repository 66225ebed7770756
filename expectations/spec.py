"""What a suite is, before great-expectations sees it: named checks as SQL.

A check is a query over the database that selects the offending rows (SQL does the
work, so memory stays flat), or the rows a Python rule of zhicheng.domain must look at
(streamed in chunks, see expectations.rules). `{batch}` in a query stands for the
suite's table, as great-expectations substitutes it.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zhicheng.config import Config


@dataclass(frozen=True)
class Check:
    name: str              # English identifier, unique within its suite
    description: str       # what must hold, in Chinese, for the data team
    query: str             # SELECT of offending rows, or of the rows the rule checks
    rule: str | None = None                     # a name in expectations.rules.RULES
    rule_args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Suite:
    name: str
    table: str             # the table great-expectations batches ({batch})
    checks: tuple[Check, ...]


@dataclass(frozen=True)
class Params:
    """Everything a suite depends on besides the data: engine dialect, scope, clock, policy."""

    dialect: str           # "sqlite" | "postgresql"
    config: Config
    home: Path
    as_of: dt.datetime
    batch_year: int | None = None
