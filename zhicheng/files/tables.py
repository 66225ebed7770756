"""Reading the staff's CSV / XLSX files (Chinese headers) for review, votes and publicity.

Rows are numbered as a spreadsheet shows them. The header is the first row, among the
first `header_scan_rows` (policy.yaml `imports`), that names every required column:
a title and a few lines above it (as the back office's own lists have them, and as
offices make them) are passed over. A file with any bad row is refused whole:
`FileRefused` lists every bad row and nothing from the file is applied.

Every row the file holds is read, whatever an XLSX's `<dimension>` tag claims (openpyxl
in read-only mode trusts it: a sheet tagged `A1:D3` read 2 of its 10 rows, one tagged
`A1:XFD8000` took a gibibyte; zhicheng.files.xlsx_guard checks the sheet first), and
a file beyond the limits of policy.yaml `imports` (size, unpacked size, rows, columns,
cells) is refused whole, naming the limit.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Generator, Iterable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from zhicheng.config import ImportLimits
from zhicheng.errors import UserError
from zhicheng.files import xlsx_guard
from zhicheng.files.spreadsheets import unguard

MB = 1024 * 1024


class FileRefused(UserError):
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
               sheet: str | None = None, limits: ImportLimits) -> list[Row]:
    """Rows of a CSV (UTF-8 with or without BOM, or GBK) or XLSX file, cells as stripped text.

    Raises FileRefused when the file cannot be read, lies beyond `limits`, or has no
    header row naming every required column.
    """
    path = Path(path)
    if not path.is_file():
        raise FileRefused(path, [(None, "file not found")])
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx", ".xlsm"):
        raise FileRefused(path, [(None, f"unsupported file type {suffix or '(none)'}: use .csv or .xlsx")])
    size = path.stat().st_size
    if size > limits.max_file_mb * MB:
        raise FileRefused(path, [(None, f"the file is {size / MB:.1f} MB, more than {limits.max_file_mb} MB "
                                        "(policy.yaml imports.max_file_mb): split it")])
    records = _csv_records(path) if suffix == ".csv" else _xlsx_records(path, sheet, limits)
    with closing(records):   # a refusal half-way closes the workbook at once
        body = _bounded(path, records, limits)
    if not body:
        raise FileRefused(path, [(None, f"sheet {sheet} is empty" if sheet else "the file is empty")])
    required, optional = list(required), list(optional)
    number, header = _header(path, body, required, optional, limits)
    rows = []
    for n, values in body:
        if n <= number:
            continue
        # a row may stop short of the header or run past it (strict=False): cells beyond
        # the header have no name, and a missing cell is an empty one
        cells = {h: _text(v) for h, v in zip(header, values, strict=False) if h}
        if any(cells.values()):
            numbers = frozenset(h for h, v in zip(header, values, strict=False)
                                if h and isinstance(v, (int, float)) and not isinstance(v, bool))
            rows.append(Row(n, cells, numbers))
    return rows


def _header(path: Path, body: list[tuple[int, list]], required: list[str], optional: list[str],
            limits: ImportLimits) -> tuple[int, list[str]]:
    """(row number, column names) of the first row naming every required column."""
    best, found_most, best_names = 1, 0, []   # the row naming most of them, for the refusal
    for number, values in body:
        if number > limits.header_scan_rows:
            break
        names = [_text(v) for v in values]
        found = sum(1 for h in required if h in names)
        if found == len(required):
            return number, names
        if found > found_most:
            best, found_most, best_names = number, found, names
    missing = [h for h in required if h not in best_names]
    raise FileRefused(path, [(best, f"missing column(s) {', '.join(missing)}; expected "
                                    f"{', '.join(required + optional)} (looked for in the first "
                                    f"{limits.header_scan_rows} rows)")])


def _bounded(path: Path, records: Iterable[tuple[int, list]], limits: ImportLimits) -> list[tuple[int, list]]:
    """The rows that hold anything, within the limits; refused at the first one beyond
    (an XLSX was checked by xlsx_guard already, a CSV is checked here)."""
    out, cells = [], 0
    for number, values in records:
        used = [i for i, v in enumerate(values) if _text(v)]
        if not used:
            continue
        if number > limits.max_rows:
            raise FileRefused(path, [(number, f"more than {limits.max_rows} rows "
                                              "(policy.yaml imports.max_rows): split the file")])
        if used[-1] >= limits.max_columns:
            raise FileRefused(path, [(number, f"a value in column {used[-1] + 1}, right of column "
                                              f"{limits.max_columns} (policy.yaml imports.max_columns)")])
        cells += len(used)
        if cells > limits.max_cells:
            raise FileRefused(path, [(number, f"more than {limits.max_cells} cells "
                                              "(policy.yaml imports.max_cells): split the file")])
        out.append((number, list(values[:used[-1] + 1])))
    return out


def _csv_records(path: Path) -> Generator[tuple[int, list], None, None]:
    text = decode_csv(path, path.read_bytes())
    reader = csv.reader(io.StringIO(text))
    try:
        for number, record in enumerate(reader, start=1):
            yield number, record
    except csv.Error as exc:
        raise FileRefused(path, [(reader.line_num, f"not readable as CSV ({exc})")]) from None


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


def _xlsx_records(path: Path, sheet: str | None,
                  limits: ImportLimits) -> Generator[tuple[int, list], None, None]:
    import openpyxl
    try:
        xlsx_guard.check(path, sheet, limits)
    except xlsx_guard.Unsound as exc:
        raise FileRefused(path, [(exc.row, exc.message)]) from None
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise FileRefused(path, [(None, f"not a readable XLSX workbook ({type(exc).__name__})")]) from None
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise FileRefused(path, [(None, f"sheet {sheet!r} is missing (sheets: {', '.join(wb.sheetnames)})")])
        ws = wb[sheet] if sheet else wb.worksheets[0]
        ws.reset_dimensions()   # the rows that are there, not what <dimension> claims
        try:
            yield from enumerate(ws.iter_rows(values_only=True), start=1)
        except FileRefused:
            raise
        except Exception as exc:  # a sheet whose XML breaks half-way
            raise FileRefused(path, [(None, f"not a readable XLSX workbook ({type(exc).__name__})")]) from None
    finally:
        wb.close()


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
    return unguard(str(value)).strip()   # a cell of our own export reads as what was exported

