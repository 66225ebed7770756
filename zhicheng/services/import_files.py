"""Reading the staff's CSV / XLSX files (Chinese headers) for votes and publicity.

Rows are numbered as a spreadsheet shows them: the header is row 1, so the first data
row is row 2. A file with any bad row is refused whole: `FileRefused` lists every bad
row and nothing from the file is applied.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from zhicheng.clock import SHANGHAI


class FileRefused(Exception):
    """The file is refused whole; `problems` holds (row, message) for every bad row."""

    def __init__(self, path: Path | str, problems: Iterable[tuple[int | None, str]]) -> None:
        self.path = str(path)
        self.problems = sorted(problems, key=lambda p: (p[0] or 0, p[1]))
        lines = [f"row {r}: {m}" if r else m for r, m in self.problems]
        super().__init__(f"{self.path}: refused, nothing applied ({len(self.problems)} problem(s)):\n"
                         + "\n".join(lines))


@dataclass(frozen=True)
class Row:
    number: int
    cells: dict[str, str]
    numbers: frozenset[str] = frozenset()  # headers whose XLSX cell held a number, not text

    def get(self, header: str) -> str:
        return self.cells.get(header, "")


def read_table(path: Path | str, *, required: Iterable[str], optional: Iterable[str] = (),
               sheet: str | None = None) -> list[Row]:
    """Rows of a CSV (UTF-8 with or without BOM, or GBK) or XLSX file, cells as stripped text.

    Raises FileRefused when the file cannot be read or lacks a required header.
    """
    path = Path(path)
    if not path.exists():
        raise FileRefused(path, [(None, "file not found")])
    suffix = path.suffix.lower()
    if suffix == ".csv":
        header, body = _read_csv(path)
    elif suffix in (".xlsx", ".xlsm"):
        header, body = _read_xlsx(path, sheet)
    else:
        raise FileRefused(path, [(None, f"unsupported file type {suffix or '(none)'}: use .csv or .xlsx")])
    required = list(required)
    missing = [h for h in required if h not in header]
    if missing:
        raise FileRefused(path, [(1, f"missing column(s) {', '.join(missing)}; "
                                     f"expected {', '.join(required + list(optional))}")])
    rows = []
    for number, values in body:
        cells = {h: _text(v) for h, v in zip(header, values) if h}
        if any(cells.values()):
            numbers = frozenset(h for h, v in zip(header, values)
                                if h and isinstance(v, (int, float)) and not isinstance(v, bool))
            rows.append(Row(number, cells, numbers))
    return rows


def _read_csv(path: Path) -> tuple[list[str], list[tuple[int, list]]]:
    text = decode_csv(path, path.read_bytes())
    records = list(csv.reader(io.StringIO(text)))
    if not records:
        raise FileRefused(path, [(None, "the file is empty")])
    header = [h.strip() for h in records[0]]
    return header, [(i, r) for i, r in enumerate(records[1:], start=2)]


def decode_csv(path: Path, raw: bytes) -> str:
    """UTF-8 (with or without BOM), else GBK as Excel on a Chinese Windows saves it
    (GB18030, its superset). Anything else is refused, never guessed at."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        raise FileRefused(path, [(None, "neither UTF-8 nor GBK text: save the CSV as UTF-8")]) from None


def _read_xlsx(path: Path, sheet: str | None) -> tuple[list[str], list[tuple[int, list]]]:
    import openpyxl
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise FileRefused(path, [(None, f"not a readable XLSX workbook ({type(exc).__name__})")]) from None
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise FileRefused(path, [(None, f"sheet {sheet!r} is missing (sheets: {', '.join(wb.sheetnames)})")])
        ws = wb[sheet] if sheet else wb.worksheets[0]
        rows = list(ws.iter_rows(values_only=True))
    finally:
        wb.close()
    if not rows:
        raise FileRefused(path, [(None, f"sheet {sheet or 1} is empty")])
    header = [_text(h) for h in rows[0]]
    return header, [(i, list(r)) for i, r in enumerate(rows[1:], start=2)]


def sheet_names(path: Path | str) -> list[str]:
    import openpyxl
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_date(text: str) -> dt.date | None:
    """YYYY-MM-DD (also YYYY/MM/DD, or a date-time whose date is taken); None when not a date."""
    text = text.strip().replace("/", "-")
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def parse_datetime(text: str) -> dt.datetime | None:
    """YYYY-MM-DD HH:MM[:SS] or YYYY-MM-DD (00:00), aware. Staff write Asia/Shanghai wall
    time without an offset, so a cell without one is read as Shanghai time (the one place,
    with parse_when and the CLI's --as-of, where a naive time is accepted); an explicit
    offset is kept."""
    text = text.strip().replace("/", "-").replace("T", " ")
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)
