"""Hostile XLSX files made as an attacker makes them: a real workbook whose XML inside
the zip is edited (a lying `<dimension>` tag, a cell far to the right or far below, a
part that unpacks to far more than the file's size)."""
from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path

SHEET = "xl/worksheets/sheet1.xml"


def edit_part(path: Path, edit: Callable[[str], str], part: str = SHEET, *,
              extra: dict[str, bytes] | None = None) -> Path:
    """Rewrite one part of the workbook (and add `extra` parts), in place."""
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    parts[part] = edit(parts[part].decode("utf-8")).encode("utf-8")
    parts.update(extra or {})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def set_dimension(path: Path, ref: str, part: str = SHEET) -> Path:
    """The `<dimension ref=...>` tag says `ref`, whatever the sheet holds."""
    def edit(xml: str) -> str:
        new, n = re.subn(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{ref}"/>', xml)
        assert n == 1, "no dimension tag to edit"
        return new
    return edit_part(path, edit, part)


def add_cell(path: Path, ref: str, text: str, part: str = SHEET) -> Path:
    """A text cell at `ref` (e.g. XFD5, A1048576), in a row of its own after the others."""
    row = int(re.sub(r"^[A-Z]+", "", ref))
    cell = f'<row r="{row}"><c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c></row>'
    return edit_part(path, lambda xml: xml.replace("</sheetData>", cell + "</sheetData>"), part)


def pad(path: Path, unpacked_bytes: int) -> Path:
    """A part of zeros that deflates to almost nothing: the file stays small."""
    return edit_part(path, lambda xml: xml, extra={"xl/media/padding.bin": bytes(unpacked_bytes)})
