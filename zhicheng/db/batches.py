"""Statements over many rows: IN-lists in pages (a year's worth of ids in one `IN (...)`
would pass the bound parameters a statement may carry: SQLite 32,766, PostgreSQL's
protocol 65,535), and rows inserted in one executemany."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import insert
from sqlalchemy.orm import Session

T = TypeVar("T")
IN_LIST = 500   # values a page: far below both limits, and few round trips


def in_pages(values: Sequence[T], size: int = IN_LIST) -> Iterator[list[T]]:
    for i in range(0, len(values), size):
        yield list(values[i:i + size])


def insert_rows(*, session: Session, model: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Rows of `model` (plain dicts, one key set) in one executemany INSERT of its table, in order.

    Not one ORM object a row: the unit of work asks for each new object's id back, which
    SQLite gives only one INSERT at a time. Nor the ORM's bulk insert, which still walks
    every row through the mapper: the table's INSERT binds the rows as they are (column
    types and Python-side defaults apply). It does not flush the session: the rows a
    batch refers to (applications, a window, a voting session) are in the database already."""
    if rows:
        session.execute(insert(model.__table__), list(rows))
