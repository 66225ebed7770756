"""Simple tabular documents in Chinese: an XLSX sheet and a PDF with the font embedded.

The PDF uses PyMuPDF's built-in Chinese font "china-s" (Droid Sans Fallback), embedded
and subset, so the file reads the same on a machine without Chinese fonts.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from zhicheng.files.spreadsheets import add_plain_sheet, cell, put, streamed_workbook
from zhicheng.private_files import write_atomic

A4_LANDSCAPE = (842, 595)
MARGIN, FONT_SIZE, TITLE_SIZE, LINE = 36, 9, 14, 16


def write_xlsx(path: Path, *, title: str, header_lines: Sequence[str], columns: Sequence[str],
               rows: Iterable[Sequence[Any]], sheet: str = "名单",
               extra: dict[str, tuple[Sequence[str], Sequence[Sequence[Any]]]] | None = None) -> Path:
    """A titled list: title, header lines, a blank row, the column names, the rows (and
    `extra` sheets of a header and rows). Every cell through spreadsheets.cell and
    `put`, as write_workbook writes them: text from outside is never a formula.
    XlsxWriter in constant-memory mode, styled (a bold title, bold column names, each
    column as wide as its longest cell): 2.1x openpyxl's full workbook here, which built
    a Cell object a value and kept them all until saved (docs/measurements.md). `rows`
    is read once, as it comes (a province's list need not be in memory): the widths
    are set after the rows, which XlsxWriter writes out when the book closes."""
    longest = [len(str(col)) for col in columns]
    with streamed_workbook(path) as (wb, styles):
        ws = wb.add_worksheet(sheet)
        plain: dict[str, Any] = {}
        lines = [([title], {"bold": True, "size": 14}), *(([line], plain) for line in header_lines), ([], plain),
                 (columns, {"bold": True})]
        for r, (values, style) in enumerate(lines):
            for c, v in enumerate(values):
                put(ws, r, c, cell(v), styles, **style)
        for r, values in enumerate(rows, start=len(lines)):
            for c, v in enumerate(values):
                put(ws, r, c, cell(v), styles)
                if c < len(longest):
                    longest[c] = max(longest[c], len(str(v or "")))
        for c, n in enumerate(longest):
            ws.set_column(c, c, min(n * 2 + 2, 60))
        for name, (cols, body) in (extra or {}).items():
            add_plain_sheet(wb, styles, name, cols, body)
    return path


def write_pdf(path: Path, *, title: str, header_lines: Sequence[str], columns: Sequence[str],
              rows: Iterable[Sequence[Any]], widths: Sequence[float] | None = None,
              footer_lines: Sequence[str] = ()) -> Path:
    import pymupdf as fitz
    font = fitz.Font("china-s")
    # a character's advance, measured once: text_length costs a MuPDF call a character
    advance = lru_cache(maxsize=None)(lambda c: font.text_length(c, fontsize=FONT_SIZE))
    doc = fitz.open()
    usable = A4_LANDSCAPE[0] - 2 * MARGIN
    widths = list(widths or [1] * len(columns))
    scale = usable / sum(widths)
    xs = [MARGIN + sum(widths[:i]) * scale for i in range(len(columns))]
    page, writer, y = None, None, 0.0

    def new_page() -> None:
        # Text goes through one TextWriter a page: page.insert_text rewrites the page's
        # content stream and resources on every call (12 ms a row at 3,000 rows).
        nonlocal page, writer, y
        if writer is not None:
            writer.write_text(page)
        page = doc.new_page(width=A4_LANDSCAPE[0], height=A4_LANDSCAPE[1])
        writer = _Spans(fitz, page.rect, font)
        y = MARGIN + TITLE_SIZE
        writer.append((MARGIN, y), title, TITLE_SIZE)
        y += LINE
        for line in header_lines:
            writer.append((MARGIN, y), line, FONT_SIZE + 1)
            y += LINE
        y += 4
        _row(columns)
        page.draw_line((MARGIN, y - LINE + 4), (MARGIN + usable, y - LINE + 4), width=0.5)

    def _row(values: Sequence[Any]) -> None:
        nonlocal y
        assert writer is not None, "new_page ran first"
        for x, w, v in zip(xs, widths, values, strict=False):   # a short row leaves its last columns blank
            text = _fit(advance, "" if v is None else str(v), w * scale - 4)
            writer.append((x, y), text, FONT_SIZE)
        y += LINE

    new_page()
    assert writer is not None and page is not None
    for row in rows:
        if y > A4_LANDSCAPE[1] - MARGIN:
            new_page()
        _row(row)
    for line in footer_lines:
        if y > A4_LANDSCAPE[1] - MARGIN:
            new_page()
        writer.append((MARGIN, y + 4), line, FONT_SIZE)
        y += LINE
    writer.write_text(page)
    doc.set_metadata({"title": title, "creator": "zhicheng"})
    doc.subset_fonts()
    write_atomic(path, doc.tobytes(garbage=3, deflate=True))
    doc.close()
    return path


class _Spans:
    """A page's TextWriter, its spans added as TextWriter.append adds them (the same
    MuPDF call, the same matrix: the same PDF), without what append also does a span:
    the bounds of all the page's text so far (text_rect, so a page costs the square of
    its spans), Point and Matrix objects and the font's flags. Measured at 2,500 rows:
    0.16 s against 1.1 s (docs/measurements.md)."""

    def __init__(self, fitz: Any, rect: Any, font: Any) -> None:
        self.mupdf, self.writer, self.font = fitz.mupdf, fitz.TextWriter(rect), font
        self.height = rect.height   # append's point: (x, y) by the writer's ictm, (x, height - y)
        self.language = self.mupdf.fz_text_language_from_string(None)
        assert not font.flags["mono"], "append repairs a mono font's widths; _Spans does not"

    def append(self, at: tuple[float, float], text: str, size: float) -> None:
        m = self.mupdf
        where = m.fz_make_matrix(size, 0, 0, size, at[0], self.height - at[1])
        m.fz_show_string(self.writer.this, self.font.this, where, text, 0, 0, 0, self.language)

    def write_text(self, page: Any) -> None:
        self.writer.write_text(page)


def _fit(advance: Callable[[str], float], text: str, width: float) -> str:
    """Cut text to its column (with …) so columns never overlap."""
    used = sum(advance(c) for c in text)
    if used <= width:
        return text
    width -= advance("…")
    while text and used > width:
        used -= advance(text[-1])
        text = text[:-1]
    return text + "…"
