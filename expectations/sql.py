"""The few SQL spellings that differ between SQLite and PostgreSQL, as text.

Suites are SQL text (great-expectations runs it as written), so literals are rendered
here, never formatted from user input: codes and names come from config/ only.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from zhicheng.db.types import UTC


def lit(value: str | int) -> str:
    """A SQL literal: integers as they are, text quoted with '' doubled."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"no SQL literal for {value!r}")
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("'", "''") + "'"


def in_list(values: Iterable[str | int]) -> str:
    items = sorted(set(values), key=str)
    return "(" + ", ".join(lit(v) for v in items) + ")" if items else "(NULL)"


class Dialect:
    def __init__(self, name: str) -> None:
        if name not in ("sqlite", "postgresql"):
            raise ValueError(f"quality suites run on SQLite and PostgreSQL, not {name}")
        self.name = name

    @property
    def pg(self) -> bool:
        return self.name == "postgresql"

    def timestamp(self, moment: dt.datetime) -> str:
        """A point in time comparable with a datetime column (zhicheng.db.types.UtcDateTime).
        SQLite keeps UTC as text 'YYYY-MM-DD HH:MM:SS.ffffff', compared as text, so the
        literal is UTC in that very format."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"naive datetime {moment.isoformat()}: quality checks compare instants")
        if self.pg:
            return f"CAST({lit(moment.isoformat())} AS TIMESTAMP WITH TIME ZONE)"
        return lit(moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"))

    def minus_days(self, column: str, days: int) -> str:
        # SQLite's strftime reads the stored text as UTC (no 'localtime' modifier) and
        # writes it back in the stored format, so the result compares with other columns.
        if self.pg:
            return f"({column} - INTERVAL '{int(days)} days')"
        return f"strftime('%Y-%m-%d %H:%M:%f000', {column}, '-{int(days)} days')"

    def json_has(self, array: str, value: str) -> str:
        """Whether a JSON array column holds a text value."""
        if self.pg:
            return f"({array} @> jsonb_build_array({value}))"
        return f"EXISTS (SELECT 1 FROM json_each({array}) AS j WHERE j.value = {value})"

    def json_at(self, array: str, index: str) -> str:
        """Element `index` (0-based) of a JSON array column, as text; NULL when absent."""
        if self.pg:
            return f"({array} ->> CAST({index} AS INTEGER))"
        return f"json_extract({array}, '$[' || {index} || ']')"

    def json_text(self, document: str, key: str) -> str:
        """A top-level key of a JSON object column, as text."""
        if not key.isidentifier():
            raise ValueError(f"not a plain JSON key: {key!r}")
        if self.pg:
            return f"({document} ->> {lit(key)})"
        return f"json_extract({document}, '$.{key}')"

    def digits(self, expr: str) -> str:
        """Whether a text is one or more ASCII digits."""
        if self.pg:
            return f"({expr} ~ '^[0-9]+$')"
        return f"({expr} <> '' AND {expr} NOT GLOB '*[^0-9]*')"

    def year_of(self, date_column: str) -> str:
        """The 4-digit year of a DATE column, as text."""
        if self.pg:
            return f"CAST(CAST(EXTRACT(YEAR FROM {date_column}) AS INTEGER) AS TEXT)"
        return f"substr({date_column}, 1, 4)"

    def mod11_2_ok(self, expr: str) -> str:
        """Whether an 18-character text is 17 digits and their ISO 7064 MOD 11-2 check
        character (the same weights as zhicheng.domain.checksums), without cast errors."""
        terms = " + ".join(f"CAST(substr({expr}, {i + 1}, 1) AS INTEGER) * {2 ** (17 - i) % 11}"
                           for i in range(17))
        return (f"(CASE WHEN length({expr}) = 18 AND {self.digits(f'substr({expr}, 1, 17)')} "
                f"THEN substr('10X98765432', ({terms}) % 11 + 1, 1) = substr({expr}, 18, 1) "
                f"ELSE FALSE END)")

    def int_of_digits(self, expr: str) -> str:
        """The integer a text of digits spells, NULL for anything else (no cast errors)."""
        return f"(CASE WHEN {self.digits(expr)} THEN CAST({expr} AS INTEGER) END)"
