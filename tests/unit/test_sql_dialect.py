"""The SQL literal quality checks compare datetime columns with: UTC on SQLite, as stored."""
from __future__ import annotations

import datetime as dt

import pytest

from zhicheng.clock import SHANGHAI
from zhicheng.expectations.sql import Dialect


def test_sqlite_timestamps_are_utc_text_and_naive_ones_refused():
    at = dt.datetime(2026, 5, 20, 0, 30, tzinfo=SHANGHAI)
    assert Dialect("sqlite").timestamp(at) == "'2026-05-19 16:30:00.000000'"
    assert Dialect("postgresql").timestamp(at) == "CAST('2026-05-20T00:30:00+08:00' AS TIMESTAMP WITH TIME ZONE)"
    with pytest.raises(ValueError, match="naive"):
        Dialect("sqlite").timestamp(dt.datetime(2026, 5, 20))
