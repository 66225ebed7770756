"""An XLSX checked before openpyxl reads it, in bounded memory.

openpyxl's read-only worksheet trusts the sheet's `<dimension>` tag (rows below it are
never read, every row is padded to its width: a 5 KB file tagged `A1:XFD8000` took a
gibibyte), skips a row that comes out of order in the XML, and builds each row whole.
So before it runs: the parts' unpacked size is bounded (zipfile never unpacks more than
an entry's declared size, so the declared sizes are a sound bound), and the sheet to be
read is walked once, element by element, each dropped as soon as it is seen, checking
that rows come in order and that rows, columns holding a value and cells stay within
policy.yaml `imports`.
"""
from __future__ import annotations

import posixpath
import xml.etree.ElementTree as ET
import zipfile

from openpyxl.utils.cell import column_index_from_string, coordinate_from_string, get_column_letter

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
    parents: list[ET.Element] = []
    last_row = number = column = cells = 0
    valued = False   # the cell being read holds text
    with z.open(part) as source:
        for event, el in ET.iterparse(source, events=("start", "end")):
            if event == "start":
                if el.tag == CELL:
                    valued = False
                elif el.tag == ROW:
                    number = _row_number(el.get("r"), last_row)
                    if number <= last_row:
                        raise Unsound(number, f"row {number} comes again or out of order in the sheet")
                    if number > limits.max_rows:
                        raise Unsound(number, f"the sheet goes on below row {limits.max_rows} (policy.yaml "
                                              "imports.max_rows): split the file, and delete empty rows "
                                              "below the data")
                    last_row, column = number, 0
                parents.append(el)
                continue
            parents.pop()
            if el.tag != CELL:
                valued = valued or bool((el.text or "").strip())
            else:
                column = _column(el.get("r"), column)
                cells += 1
                if cells > limits.max_cells:
                    raise Unsound(number, f"more than {limits.max_cells} cells (policy.yaml imports.max_cells): "
                                          "split the file")
                if column > limits.max_columns and valued:
                    raise Unsound(number, f"a value in column {get_column_letter(column)}, right of column "
                                          f"{get_column_letter(limits.max_columns)} (policy.yaml imports.max_columns)")
            if parents:
                parents[-1].remove(el)   # seen: nothing of the sheet stays in memory


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
    except ValueError:
        raise Unsound(None, f"cell reference {ref[:20]!r} in the sheet is not one") from None

