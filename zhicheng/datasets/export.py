"""`zhicheng export`: a dataset of zhicheng.datasets written as CSV, XLSX or Parquet.

The rows stream from the database chunk by chunk (zhicheng.datasets.frames) into the
file, so a year of a province is never whole in memory: CSV row by row, XLSX in
openpyxl's write-only mode, Parquet a row group a chunk (pyarrow's ParquetWriter,
with one schema from the columns' SQL types, whatever a chunk holds). CSV and XLSX go
through zhicheng.files.spreadsheets (formula-safe text cells, CSV in UTF-8 with a BOM
for Excel); Parquet keeps the types (integers, booleans, dates, times with their
zone). Files are written whole and private (0600), or not at all.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from zhicheng import datasets
from zhicheng.files import spreadsheets
from zhicheng.private_files import atomic_file

FORMATS = ("csv", "xlsx", "parquet")
XLSX_MAX_ROWS = 1_048_575   # Excel's sheet, less its header row


class TooManyRows(ValueError):
    """More rows than an XLSX sheet holds."""


def default_path(app, name: str, fmt: str, batch_year: int | None, region: str | None) -> Path:
    parts = [name, str(batch_year) if batch_year is not None else "all-years", region or "all-regions"]
    return app.workspace("exports") / f"{'-'.join(parts)}.{fmt}"


def export(*, app, name: str, fmt: str, out: Path | None = None, batch_year: int | None = None,
           region: str | None = None, unmasked: bool = False, chunk_rows: int | None = None) -> dict[str, Any]:
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    parts = datasets.frames(name, batch_year=batch_year, region=region, unmasked=unmasked, app=app,
                            chunk_rows=chunk_rows)
    path = out or default_path(app, name, fmt, batch_year, region)
    counted = _Counted(parts, limit=XLSX_MAX_ROWS if fmt == "xlsx" else None)
    if fmt == "parquet":
        write_parquet(path, counted, empty=datasets.empty(name, app=app),
                      schema=arrow_schema(name, str(app.settings.timezone)))
    else:
        header = [c for c, _ in datasets.columns(name)]
        values = (r for df in counted for r in rows(df))
        if fmt == "csv":
            spreadsheets.write_csv(path, header, values)
        else:
            spreadsheets.write_workbook(path, {name: (header, values)})
    return {"dataset": name, "format": fmt, "rows": counted.rows, "path": str(Path(path).resolve()),
            "batch_year": batch_year, "region": region, "masked": not unmasked}


class _Counted:
    """The chunks, counting their rows; past `limit` rows the file is refused (unwritten)."""

    def __init__(self, parts: Iterable[Any], *, limit: int | None) -> None:
        self.parts, self.limit, self.rows = parts, limit, 0

    def __iter__(self) -> Iterator[Any]:
        for df in self.parts:
            self.rows += len(df)
            if self.limit is not None and self.rows > self.limit:
                raise TooManyRows(f"more than {self.limit} rows do not fit an XLSX sheet; "
                                  "export CSV or Parquet, or narrow by --batch-year or --region")
            yield df


def arrow_schema(name: str, zone: str) -> Any:
    """The Parquet columns of a dataset, from its SQL types (a chunk of empty values
    would give pyarrow nothing to infer them from)."""
    import pyarrow as pa
    import sqlalchemy as sa

    def arrow(type_: Any) -> Any:
        if isinstance(type_, sa.DateTime):
            return pa.timestamp("ns", tz=zone)
        if isinstance(type_, sa.Date):
            return pa.date32()
        if isinstance(type_, sa.Boolean):
            return pa.bool_()
        if isinstance(type_, sa.Integer):
            return pa.int64()
        if isinstance(type_, (sa.Float, sa.Numeric)):
            return pa.float64()
        return pa.string()
    return pa.schema([(column, arrow(type_)) for column, type_ in datasets.columns(name)])


def write_parquet(path: Path, parts: Iterable[Any], *, empty: Any, schema: Any) -> Path:
    """The chunks as one Parquet file, a row group each, with the dataset's `schema`
    and the pandas metadata of `empty` (its columns and dtypes, so pandas reads the
    dtypes back): the same rows and types as writing their concatenation."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    schema = pa.Table.from_pandas(empty, schema=schema, preserve_index=False).schema
    with atomic_file(path) as fh, pq.ParquetWriter(fh, schema) as writer:
        for df in parts:
            writer.write_table(pa.Table.from_pandas(df, schema=schema, preserve_index=False))
    return path


def rows(df: Any) -> Iterator[tuple]:
    """A chunk's rows as Python values, a column at a time (a value at a time took
    twice as long): missing values None, timestamps datetimes, numbers Python's."""
    import pandas as pd

    def column(s: Any) -> list[Any]:
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            return [None if v is pd.NaT else v.to_pydatetime() for v in s]
        return s.astype(object).where(s.notna(), None).tolist()
    return zip(*(column(df[c]) for c in df.columns), strict=True)
