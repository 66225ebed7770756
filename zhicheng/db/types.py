"""Column types whose meaning must not depend on the engine.

`UtcDateTime` is every datetime column (through Base.type_annotation_map). PostgreSQL's
timestamptz keeps instants; SQLite keeps only text, and a plain DateTime(timezone=True)
there writes the wall time of whatever offset the value carried and reads it back naive,
so two instants written with different offsets compare wrongly and a date taken from a
stored time can be a day off. This type writes UTC on both engines and always hands back
aware UTC datetimes; turning one into a calendar date is zhicheng.clock.local_date's job.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

UTC = dt.timezone.utc


class NaiveDatetimeError(ValueError):
    """A datetime without an offset reached the database: nobody can say which instant it is."""


class UtcDateTime(TypeDecorator[dt.datetime]):
    """An instant, stored in UTC, returned aware in UTC; naive datetimes are refused.

    SQLite stores the text SQLAlchemy's DateTime writes ('YYYY-MM-DD HH:MM:SS.ffffff'),
    now in UTC, which is also how CURRENT_TIMESTAMP server defaults write it.
    Migrations see the implementation type, DateTime(timezone=True)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError(f"a datetime column takes datetime.datetime, not {type(value).__name__}: {value!r}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDatetimeError(
                f"naive datetime {value.isoformat()} refused: give it a zone "
                "(zhicheng.clock.SHANGHAI for local wall time) so it names one instant")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_literal_param(self, value: Any, dialect: Dialect) -> str:
        moment = self.process_bind_param(value, dialect)
        return "NULL" if moment is None else f"'{moment.isoformat(sep=' ')}'"

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:   # SQLite: the text is UTC
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    @property
    def python_type(self) -> type[dt.datetime]:
        return dt.datetime
