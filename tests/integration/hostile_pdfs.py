"""Uploads an applicant might send, built in the test: sound ones and hostile ones.

Sound documents come from PyMuPDF; hostile structures are written by hand with the
generator's PDF writer, since no library will write a broken file on purpose."""
from __future__ import annotations

import io
import zlib
from functools import lru_cache

import pymupdf
from PIL import Image
from pypdf import PdfWriter

from zhicheng.standins import pdfwriter as pw

A4 = (595, 842)


def text_pdf(pages: int = 1, *, blank_after: bool = False, **save) -> bytes:
    doc = pymupdf.open()
    for n in range(pages):
        doc.new_page(width=A4[0], height=A4[1]).insert_text((72, 72), f"Page {n + 1}: declaration text")
    if blank_after:
        doc.new_page(width=A4[0], height=A4[1])
    return doc.tobytes(**save)


def encrypted_pdf() -> bytes:
    return text_pdf(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="123456", owner_pw="owner")


def owner_password_only(maker: str = "pypdf") -> bytes:
    """Encrypted with an owner password and an empty user password: it opens without
    asking, and PyMuPDF then reports it as not encrypted."""
    if maker == "pymupdf":
        return text_pdf(encryption=pymupdf.PDF_ENCRYPT_AES_128, owner_pw="owner", user_pw="",
                        permissions=pymupdf.PDF_PERM_PRINT)
    writer = PdfWriter(clone_from=io.BytesIO(text_pdf()))
    writer.encrypt(user_password="", owner_password="owner", algorithm="AES-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def with_embedded_file() -> bytes:
    doc = pymupdf.open(stream=text_pdf(), filetype="pdf")
    doc.embfile_add("setup.exe", b"MZ\x90\x00 not really a program")
    return doc.tobytes()


def with_javascript() -> bytes:
    return pw.build([pw.text_page(["承诺书"])], extra_catalog=pw.ACTIVE["javascript"])


def with_link_launch() -> bytes:
    """A launch action hidden in a link annotation of the page, not in the catalog."""
    return pw.build([pw.text_page(["承诺书"])],
                    page_extra="/Annots[<</Type/Annot/Subtype/Link/Rect[0 0 100 100]"
                               "/A<</S/Launch/F(cmd.exe)>>>>]")


@lru_cache(maxsize=8)
def scan_pdf(dpi: int, *, white_background: bool = False) -> bytes:
    """An A4 page that is one grey scan image at `dpi`."""
    w, h = round(8.27 * dpi), round(11.69 * dpi)
    img = Image.new("L", (w, h), 200)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=30)
    doc = pymupdf.open()
    page = doc.new_page(width=A4[0], height=A4[1])
    if white_background:
        page.draw_rect(page.rect, color=None, fill=(1, 1, 1))
    page.insert_image(page.rect, stream=buf.getvalue())
    return doc.tobytes()


def white_page_pdf() -> bytes:
    """A page whose only content is a white rectangle: blank to the eye."""
    doc = pymupdf.open()
    page = doc.new_page(width=A4[0], height=A4[1])
    page.draw_rect(page.rect, color=None, fill=(1, 1, 1))
    return doc.tobytes()


def bomb(side: int = 9000) -> bytes:
    """An image stream deflated twice: side² bytes (81 MB) from well under 1 KB."""
    data = zlib.compress(zlib.compress(b"\0" * side * side, 9), 9)
    w = pw.Writer()
    catalog, pages = w.reserve(), w.reserve()
    img = w.add(f"<</Type/XObject/Subtype/Image/Width {side}/Height {side}/ColorSpace/DeviceGray"
                f"/BitsPerComponent 8/Length {len(data)}/Filter[/FlateDecode/FlateDecode]>>\nstream\n".encode()
                + data + b"\nendstream")
    content = w.stream(b"q 595 0 0 842 0 0 cm /Im0 Do Q")
    page = w.add(f"<</Type/Page/Parent {pages} 0 R/MediaBox[0 0 595 842]/Resources<</XObject<</Im0 {img} 0 R>>>>"
                 f"/Contents {content} 0 R>>")
    w.set(pages, f"<</Type/Pages/Count 1/Kids[{page} 0 R]>>")
    w.set(catalog, f"<</Type/Catalog/Pages {pages} 0 R>>")
    return w.serialise(catalog)


@lru_cache(maxsize=1)
def content_bomb(megabytes: int = 3000) -> bytes:
    """A content stream of whitespace that inflates to `megabytes` MB: about 5 s of
    lexing on a quiet machine, well past a 1 s budget even as RLIMIT_CPU rounds it up
    to the next whole second (1,000 MB took 1.7 s: a finished file on a quiet day)."""
    comp = zlib.compressobj(1)
    chunk = b"\0" * (1 << 20)
    return _one_page(b"".join(comp.compress(chunk) for _ in range(megabytes)) + comp.flush())


@lru_cache(maxsize=1)
def stroked_paths(repeats: int = 3_000_000) -> bytes:
    """One page whose compressed content stream is `0 0 m 1 1 l S` three million times
    (80 KB): drawing it exhausts memory, and MuPDF says so on stdout on a busy machine."""
    return _one_page(zlib.compress(b"0 0 m 1 1 l S\n" * repeats, 9))


def _one_page(body: bytes) -> bytes:
    """A PDF of one page whose content stream is `body`, deflated."""
    w = pw.Writer()
    catalog, pages = w.reserve(), w.reserve()
    content = w.add(f"<</Length {len(body)}/Filter/FlateDecode>>\nstream\n".encode() + body + b"\nendstream")
    page = w.add(f"<</Type/Page/Parent {pages} 0 R/MediaBox[0 0 595 842]/Contents {content} 0 R>>")
    w.set(pages, f"<</Type/Pages/Count 1/Kids[{page} 0 R]>>")
    w.set(catalog, f"<</Type/Catalog/Pages {pages} 0 R>>")
    return w.serialise(catalog)


def ordinary_files(count: int) -> list[tuple[bytes, bool]]:
    """`count` different sound uploads (data, is it a photo): text PDFs, scans, photos."""
    out = []
    for n in range(count):
        if n % 3 == 0:
            out.append((photo((330 + n, 480 + n)), True))
        elif n % 3 == 1:
            out.append((pw.build([pw.text_page([f"承诺书 {n}"])] * (1 + n % 5)), False))
        else:
            out.append((scan_pdf(150 + n), False))
    return out


def many_pages(count: int = 100_000) -> bytes:
    w = pw.Writer()
    catalog, pages = w.reserve(), w.reserve()
    kids = [w.add(f"<</Type/Page/Parent {pages} 0 R>>") for _ in range(count)]
    w.set(pages, f"<</Type/Pages/Count {count}/MediaBox[0 0 595 842]/Kids[{' '.join(f'{k} 0 R' for k in kids)}]>>")
    w.set(catalog, f"<</Type/Catalog/Pages {pages} 0 R>>")
    return w.serialise(catalog)


def page_tree_loop() -> bytes:
    w = pw.Writer()
    catalog, pages, inner = w.reserve(), w.reserve(), w.reserve()
    w.set(inner, f"<</Type/Pages/Parent {pages} 0 R/Count 1/Kids[{pages} 0 R]>>")
    w.set(pages, f"<</Type/Pages/Count 1/Kids[{inner} 0 R]>>")
    w.set(catalog, f"<</Type/Catalog/Pages {pages} 0 R>>")
    return w.serialise(catalog)


def deeply_nested(depth: int = 20_000) -> bytes:
    return pw.deeply_nested(["承诺书"], depth=depth)


def truncated() -> bytes:
    data = text_pdf(3)
    return data[: len(data) * 3 // 5]


def word_document() -> bytes:
    return b"PK\x03\x04\x14\x00\x06\x00" + b"[Content_Types].xml" + bytes(200)


def photo(size: tuple[int, int], fmt: str = "JPEG", comment: str = "") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 180, 170)).save(buf, fmt, **({"comment": comment} if comment else {}))
    return buf.getvalue()
