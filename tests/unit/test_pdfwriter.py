"""The synthetic year's PDF writer: text any reader can extract, a ToUnicode like real producers'."""
import io
import re
import zlib

import pymupdf
from pypdf import PdfReader

from zhicheng.standins import pdfwriter as pw

LINES = ["个人诚信承诺书", "陈洁月  公民身份号码：321322197905100041", "承诺人：陈洁月（签字）"]


def _to_unicode(data: bytes) -> bytes:
    doc = pymupdf.open(stream=data, filetype="pdf")
    font = doc[0].get_fonts(full=True)[0][0]
    return zlib.decompress(doc.xref_stream_raw(int(doc.xref_get_key(font, "ToUnicode")[1].split()[0])))


def test_text_comes_back_as_written_in_mupdf_and_pypdf():
    data = pw.build([pw.text_page(LINES)])
    mupdf_text = pymupdf.open(stream=data, filetype="pdf")[0].get_text()
    pypdf_text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    for line in LINES:   # spaces stay U+0020 (a whole-BMP map made MuPDF read them as U+00A0)
        assert line in mupdf_text
        assert line.replace(" ", "") in pypdf_text.replace(" ", "")


def test_to_unicode_maps_only_the_codes_the_document_uses():
    pages = [pw.text_page(LINES[:2]), pw.text_page(LINES[2:])]
    cmap = _to_unicode(pw.build(pages)).decode("ascii")
    mapped = {int(code, 16) for code in re.findall(r"<([0-9A-F]{4})> <\1>", cmap)}
    used = {ord(ch) for line in LINES for ch in line}
    assert mapped == used
    assert "bfrange" not in cmap
