"""Every cell the back office writes into a spreadsheet (XLSX or CSV) goes through here.

Names, employers, specialties and reasons come from the hall and from staff files; a
value like `=HYPERLINK("http://…","点此")` written as it is becomes a live formula in
Excel or WPS the moment a publicity list or a report is opened. So (OWASP, CSV
injection): every text cell is written as text, and text that begins with `=`, `+`,
`-`, `@`, a tab or a line break gets a leading `'`, in XLSX as in CSV, so that even a
reader that re-interprets the cell (a CSV opened in Excel, an XLSX saved as CSV) sees
text. XLSX text cells are typed as strings (never formulas) and a guarded one also
carries Excel's own "quote prefix" mark. Numbers the back office computes (counts,
days) stay numbers. Characters XML cannot hold (control characters) become U+FFFD.

The importers (zhicheng.files.tables) remove the guard again, so a file made
from an export reads back the value that was exported.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from zhicheng.private_files import atomic_file

GUARD = "'"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
# what XML 1.0 (and so XLSX) cannot hold; CSV gets the same text, so both files agree
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def text(value: str) -> str:
    """A string as it is safe in a cell: illegal characters replaced, a formula start guarded."""
    value = _ILLEGAL.sub("\ufffd", value)
    return GUARD + value if value.startswith(FORMULA_STARTS) else value


def unguard(value: str) -> str:
    """The value an exported cell stood for (the reverse of `text` for a guarded cell)."""
    return value[1:] if guarded(value) else value


def guarded(value: str) -> bool:
    """Whether a cell's text carries the guard `text` put before a formula start."""
    return value.startswith(GUARD) and value[1:2] in FORMULA_STARTS


def cell(value: Any) -> Any:
    """A number the back office computed stays a number; everything else is safe text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (int, float, Decimal)):
        return value
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    return text(str(value))


def row_cells(ws: Any, values: Iterable[Any]) -> list[Any]:
    """One XLSX row for `ws.append`: text cells typed as strings, never as formulas."""
    from openpyxl.cell.cell import Cell
    out = []
    for column, v in enumerate(values, 1):
        # the column (append sets it again) lets openpyxl's write-only mode name the cell
        c = Cell(ws, column=column, value=cell(v))
        if isinstance(c.value, str):
            c.data_type = "s"
            if guarded(c.value):
                c.quotePrefix = True
        out.append(c)
    return out


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    """A CSV Excel opens as it is (UTF-8 with BOM); text quoted, numbers bare. The rows
    are written as they come (an iterator of a million keeps memory flat); the file
    appears whole or not at all."""
    with atomic_file(path) as fh:
        out = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="")
        w = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC)
        w.writerow([cell(h) for h in header])
        w.writerows([cell(v) for v in r] for r in rows)
        out.flush()
        out.detach()  # the file is atomic_file's to close
    return path


def save(wb: Any, path: Path) -> Path:
    """Write the workbook whole and private (0600, docs/privacy.md), or not at all."""
    with atomic_file(path) as fh:
        wb.save(fh)
    return path


def write_workbook(path: Path, sheets: Mapping[str, tuple[Sequence[str], Iterable[Sequence[Any]]]]) -> Path:
    """An XLSX of plain sheets, streamed: XlsxWriter's constant-memory mode writes each
    row to a temporary file beside `path` as it comes, its text in-line (no table of
    shared strings growing with the rows), so memory stays flat in the number of rows.
    The titled lists (cjk_documents.write_xlsx) are written the same way, styled; a
    workbook built in openpyxl (issuance's query) goes through `row_cells` and `save`.
    A plain one is written 2.6 times as fast here as in openpyxl's write-only mode
    (docs/quality.md), which builds a Cell object per value."""
    with streamed_workbook(path) as (wb, styles):
        for name, (header, rows) in sheets.items():
            add_plain_sheet(wb, styles, name, header, rows)
    return path


@contextmanager
def streamed_workbook(path: Path) -> Iterator[tuple[Any, Styles]]:
    """An XlsxWriter workbook in constant-memory mode and its formats, written to `path`
    whole or not at all when the block ends."""
    import xlsxwriter
    with atomic_file(path) as fh:
        wb = xlsxwriter.Workbook(fh, {"constant_memory": True, "tmpdir": str(Path(path).parent),
                                      # every value is written as the type `cell` gives it
                                      "strings_to_numbers": False, "strings_to_formulas": False,
                                      "strings_to_urls": False})
        yield wb, Styles(wb)
        wb.close()


def add_plain_sheet(wb: Any, styles: Styles, name: str, header: Sequence[str],
                    rows: Iterable[Sequence[Any]]) -> None:
    """A sheet of a header row and its rows, every value through `cell`."""
    ws = wb.add_worksheet(name)
    for r, values in enumerate(itertools.chain([header], rows)):
        for c, v in enumerate(values):
            put(ws, r, c, cell(v), styles)


class Styles:
    """An XlsxWriter workbook's cell formats, each made once: (bold, size, quote prefix)."""

    def __init__(self, wb: Any) -> None:
        self.wb = wb
        self.made: dict[tuple[bool, int | None, bool], Any] = {}

    def __call__(self, bold: bool, size: int | None, quote: bool) -> Any:
        key = (bold, size, quote)
        if key not in self.made:
            wanted = {"bold": bold, "size": size, "quote_prefix": quote}
            self.made[key] = self.wb.add_format({k: v for k, v in wanted.items() if v}) if any(wanted.values()) \
                else None
        return self.made[key]


def put(ws: Any, row: int, column: int, value: Any, styles: Styles, *, bold: bool = False,
        size: int | None = None) -> None:
    """One value `cell` gave, into an XlsxWriter sheet: a number as a number, text as a
    string (never a formula), a guarded one with Excel's quote prefix."""
    if not isinstance(value, str):
        ws.write_number(row, column, value, styles(bold, size, False))
        return
    # a line break as XML reads it: every reader saw openpyxl's \r as \n; XlsxWriter
    # would escape it as _x000D_, which Excel decodes and openpyxl's reader does not
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if value or bold or size:
        ws.write_string(row, column, value, styles(bold, size, guarded(value)))
