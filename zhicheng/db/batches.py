"""IN-lists in pages: a year's worth of ids in one `IN (...)` would pass the bound
parameters a statement may carry (SQLite: 32,766; PostgreSQL's protocol: 65,535)."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")
IN_LIST = 500   # values a page: far below both limits, and few round trips


def in_pages(values: Sequence[T], size: int = IN_LIST) -> Iterator[list[T]]:
    for i in range(0, len(values), size):
        yield list(values[i:i + size])
