"""An XLSX checked before openpyxl reads it, in bounded memory.

openpyxl's read-only worksheet trusts the sheet's `<dimension>` tag (rows below it are
never read, every row is padded to its width: a 5 KB file tagged `A1:XFD8000` took a
gibibyte), skips a row that comes out of order in the XML, and builds each row whole.
So before it runs: the parts' unpacked size is bounded (zipfile never unpacks more than
an entry's declared size, so the declared sizes are a sound bound), and the sheet to be
read is walked once, event by event, nothing of it kept, checking that rows come in
order and that rows, columns holding a value and cells stay within policy.yaml
`imports`. The walk takes ElementTree's own parser's events on a target (_Walk) and
builds no element: 1.35-1.75x the iterparse walk it replaced, with the same refusals
(docs/measurements.md).
"""
from __future__ import annotations

import posixpath
import xml.etree.ElementTree as ET
import zipfile

from openpyxl.utils.cell import column_index_from_string, coordinate_from_string, get_column_letter
from openpyxl.utils.exceptions import CellCoordinatesException

from zhicheng.config import ImportLimits

MB = 1024 * 1024
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
ROW, CELL = MAIN + "row", MAIN + "c"


class Unsound(Exception):
    """The workbook lies beyond a limit or cannot be read; `row` where, when known."""

    def __init__(self, row: int | None, message: str) -> None:
        super().__init__(message)
        self.row, self.message = row, message


def check(path, sheet: str | None, limits: ImportLimits) -> None:
    try:
        with zipfile.ZipFile(path) as z:
            unpacked = sum(i.file_size for i in z.infolist())
            if unpacked > limits.max_unpacked_mb * MB:
                raise Unsound(None, f"the workbook unpacks to {unpacked / MB:.0f} MB, more than "
                                    f"{limits.max_unpacked_mb} MB (policy.yaml imports.max_unpacked_mb)")
            part = _sheet_part(z, sheet)
            if part is not None:   # else openpyxl names what is missing
                _walk(z, part, limits)
    except (zipfile.BadZipFile, ET.ParseError, KeyError, OSError) as exc:
        raise Unsound(None, f"not a readable XLSX workbook ({type(exc).__name__})") from None


def _sheet_part(z: zipfile.ZipFile, sheet: str | None) -> str | None:
    """The zip entry of the named sheet (the first without a name), as openpyxl finds it."""
    book = ET.fromstring(z.read("xl/workbook.xml"))
    sheets = [(s.get("name"), s.get(REL_ID)) for s in book.iter(MAIN + "sheet")]
    wanted = next((rid for name, rid in sheets if sheet is None or name == sheet), None)
    rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    target = next((r.get("Target") for r in rels.iter(RELS + "Relationship") if r.get("Id") == wanted), None)
    if target is None:
        return None
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))


def _walk(z: zipfile.ZipFile, part: str, limits: ImportLimits) -> None:
    """The sheet's XML through ElementTree's own parser, its events to _Walk: no
    element is built (a tree a sheet, or iterparse's element an event, cost 3x)."""
    walk = _Walk(limits)
    parser = ET.XMLParser(target=walk)
    with z.open(part) as source:
        while data := source.read(64 * 1024):
            parser.feed(data)
    parser.close()


class _Walk:
    """The checks of the sheet, event by event: rows in order and within max_rows;
    cells within max_cells; a value (text in any element of a cell, before its first
    child, as ElementTree's `text`) right of max_columns refused."""

    def __init__(self, limits: ImportLimits) -> None:
        self.limits = limits
        self.last_row = self.number = self.column = self.cells = 0
        self.valued = False            # the cell being read holds text
        self.open: list[list] = []     # per open element: [is a cell, has a child yet, has text before it, its r]

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        if self.open:
            self.open[-1][1] = True
        if tag == CELL:
            self.valued = False
        elif tag == ROW:
            self._row(attrib.get("r"))
        self.open.append([tag == CELL, False, False, attrib.get("r")])

    def data(self, text: str) -> None:
        top = self.open[-1] if self.open else None
        if top is not None and not top[1] and not top[2] and text.strip():
            top[2] = True

    def end(self, tag: str) -> None:
        is_cell, _, has_text, ref = self.open.pop()
        if not is_cell:
            self.valued = self.valued or has_text
            return
        self.column = _column(ref, self.column)
        self.cells += 1
        limits = self.limits
        if self.cells > limits.max_cells:
            raise Unsound(self.number, f"more than {limits.max_cells} cells (policy.yaml imports.max_cells): "
                                       "split the file")
        if self.column > limits.max_columns and self.valued:
            raise Unsound(self.number, f"a value in column {get_column_letter(self.column)}, right of column "
                                       f"{get_column_letter(limits.max_columns)} (policy.yaml imports.max_columns)")

    def _row(self, ref: str | None) -> None:
        number = self.number = _row_number(ref, self.last_row)
        if number <= self.last_row:
            raise Unsound(number, f"row {number} comes again or out of order in the sheet")
        if number > self.limits.max_rows:
            raise Unsound(number, f"the sheet goes on below row {self.limits.max_rows} (policy.yaml "
                                  "imports.max_rows): split the file, and delete empty rows below the data")
        self.last_row, self.column = number, 0

    def close(self) -> None:
        return None


def _row_number(ref: str | None, last: int) -> int:
    if ref is None:
        return last + 1
    try:
        return int(float(ref))
    except ValueError:
        raise Unsound(None, f"row number {ref[:20]!r} in the sheet is not a number") from None


def _column(ref: str | None, last: int) -> int:
    if ref is None:
        return last + 1
    try:
        return column_index_from_string(coordinate_from_string(ref)[0])
    except (ValueError, CellCoordinatesException):   # the latter: "12A", digits before letters
        raise Unsound(None, f"cell reference {ref[:20]!r} in the sheet is not one") from None

