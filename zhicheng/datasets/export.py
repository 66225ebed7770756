"""`zhicheng export`: a dataset of zhicheng.datasets written as CSV, XLSX or Parquet.

CSV and XLSX go through zhicheng.files.spreadsheets (formula-safe text cells, CSV in
UTF-8 with a BOM for Excel); Parquet keeps the types (integers, booleans, dates, times
with their zone). Files are written whole and private (0600), or not at all.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from zhicheng import datasets
from zhicheng.files import spreadsheets
from zhicheng.private_files import write_atomic

FORMATS = ("csv", "xlsx", "parquet")
XLSX_MAX_ROWS = 1_048_575   # Excel's sheet, less its header row


class TooManyRows(ValueError):
    """More rows than an XLSX sheet holds."""


def default_path(app, name: str, fmt: str, batch_year: int | None, region: str | None) -> Path:
    parts = [name, str(batch_year) if batch_year is not None else "all-years", region or "all-regions"]
    return app.workspace("exports") / f"{'-'.join(parts)}.{fmt}"


def export(*, app, name: str, fmt: str, out: Path | None = None, batch_year: int | None = None,
           region: str | None = None, unmasked: bool = False) -> dict[str, Any]:
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    df = datasets.frame(name, batch_year=batch_year, region=region, unmasked=unmasked, app=app)
    path = out or default_path(app, name, fmt, batch_year, region)
    if fmt == "parquet":
        buf = io.BytesIO()
        df.to_parquet(buf, engine="pyarrow", index=False)
        write_atomic(path, buf.getvalue())
    else:
        if fmt == "xlsx" and len(df) > XLSX_MAX_ROWS:
            raise TooManyRows(f"{len(df)} rows do not fit an XLSX sheet ({XLSX_MAX_ROWS}); "
                              "export CSV or Parquet, or narrow by --batch-year or --region")
        rows = (_plain(r) for r in df.itertuples(index=False, name=None))
        header = list(df.columns)
        if fmt == "csv":
            spreadsheets.write_csv(path, header, rows)
        else:
            spreadsheets.write_workbook(path, {name: (header, rows)})
    return {"dataset": name, "format": fmt, "rows": len(df), "path": str(Path(path).resolve()),
            "batch_year": batch_year, "region": region, "masked": not unmasked}


def _plain(row: tuple) -> list[Any]:
    """pandas' missing values as empty cells; its timestamps as datetimes."""
    import pandas as pd
    out = []
    for v in row:
        if v is None or (not isinstance(v, (str, bytes)) and pd.isna(v)):
            out.append(None)
        elif isinstance(v, pd.Timestamp):
            out.append(v.to_pydatetime())
        elif hasattr(v, "item"):   # numpy scalars
            out.append(v.item())
        else:
            out.append(v)
    return out
