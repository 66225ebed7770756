"""A tiny deterministic PDF writer for the synthetic year.

Why not PyMuPDF for every file: at ~5 ms a document it would take most of a minute for a
year of 1,000 applications, and its trailer /ID is random. This writer emits the same
font structure PyMuPDF uses for its built-in ``china-s`` font (Type0 ``Heiti`` with
``UniGB-UTF16-H``), so MuPDF renders the text with its built-in CJK font; a ToUnicode
CMap makes the text extractable by any reader (MuPDF, pypdf). Like the ToUnicode of real
producers it maps only the codes the document uses: one mapping the whole BMP made MuPDF
remap every code of UniGB-UTF16-H through it when loading the font (~2.7 ms a file, 6x a
Word export's font; docs/validation.md). No dates, no random IDs: the same input
gives the same bytes.

A document is a list of pages; a page has text lines and optionally one JPEG image
drawn over the whole page (a scan). `extra_catalog`, `extra_objects` and the hostile
helpers let the generator plant faults (active content, nesting, broken xref).
"""
from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass, field
from functools import lru_cache

A4 = (595, 842)


@dataclass
class Page:
    lines: list[tuple[float, float, float, str]] = field(default_factory=list)  # x, y, size, text
    image: tuple[bytes, int, int, bool] | None = None  # jpeg bytes, width px, height px, gray
    size: tuple[int, int] = A4


def _hex_utf16(text: str) -> str:
    return text.encode("utf-16-be").hex().upper()


def _content(page: Page) -> bytes:
    parts = []
    if page.image is not None:
        parts.append(f"q {page.size[0]} 0 0 {page.size[1]} 0 0 cm /Im0 Do Q")
    if page.lines:
        parts.append("BT")
        for x, y, size, text in page.lines:
            parts.append(f"/F0 {size:g} Tf 1 0 0 1 {x:g} {y:g} Tm <{_hex_utf16(text)}> Tj")
        parts.append("ET")
    return "\n".join(parts).encode("ascii")


def _to_unicode(codes: set[int]) -> bytes:
    """Codes are UTF-16BE units, so each used code maps to itself (surrogates left out)."""
    chars = [f"<{c:04X}> <{c:04X}>" for c in sorted(codes) if not 0xD800 <= c <= 0xDFFF]
    blocks = [chars[i:i + 100] for i in range(0, len(chars), 100)]  # at most 100 a block
    body = "".join(f"{len(b)} beginbfchar\n" + "\n".join(b) + "\nendbfchar\n" for b in blocks)
    text = ("/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            "/CMapName /Adobe-Identity-UCS def /CMapType 2 def\n"
            "1 begincodespacerange <0000> <FFFF> endcodespacerange\n" + body +
            "endcmap CMapName currentdict /CMap defineresource pop end end")
    return zlib.compress(text.encode("ascii"), 9)


def _codes(pages: list[Page]) -> set[int]:
    units = "".join(text for page in pages for *_, text in page.lines).encode("utf-16-be")
    return {int.from_bytes(units[i:i + 2], "big") for i in range(0, len(units), 2)}


class Writer:
    """Collects numbered objects and serialises them with a correct xref table."""

    def __init__(self) -> None:
        self.objects: list[bytes] = []

    def add(self, body: bytes | str) -> int:
        self.objects.append(body.encode("latin-1") if isinstance(body, str) else body)
        return len(self.objects)

    def reserve(self) -> int:
        return self.add(b"null")

    def set(self, num: int, body: bytes | str) -> None:
        self.objects[num - 1] = body.encode("latin-1") if isinstance(body, str) else body

    def stream(self, data: bytes, extra: str = "", compress: bool = True) -> int:
        if compress:
            data = zlib.compress(data, 6)
            extra = "/Filter/FlateDecode" + extra
        return self.add(b"<<" + f"/Length {len(data)}{extra}".encode("latin-1") + b">>\nstream\n"
                        + data + b"\nendstream")

    def serialise(self, root: int, trailer_extra: str = "", file_id: bytes | None = None,
                  break_xref: bool = False) -> bytes:
        out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for i, body in enumerate(self.objects, 1):
            offsets.append(len(out))
            out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
        xref = len(out)
        out += f"xref\n0 {len(self.objects) + 1}\n0000000000 65535 f \n".encode()
        for off in offsets:
            # a broken table points every object into the void
            out += f"{(off * 7 + 13) if break_xref else off:010d} 00000 n \n".encode()
        ident = (file_id or hashlib.md5(bytes(out)).digest()).hex().upper()
        out += (f"trailer\n<</Size {len(self.objects) + 1}/Root {root} 0 R{trailer_extra}"
                f"/ID[<{ident}><{ident}>]>>\nstartxref\n{xref + 999 if break_xref else xref}\n%%EOF\n").encode()
        return bytes(out)


def font_objects(w: Writer, codes: set[int]) -> int:
    """The china-s font as PyMuPDF writes it, plus a ToUnicode map of `codes`; returns the
    Type0 font."""
    desc = w.add("<</Type/FontDescriptor/FontName/Heiti/FontBBox[-200 -200 1200 1200]/Flags 4"
                 "/ItalicAngle 0/Ascent 1000/Descent -200/StemV 80>>")
    cid = w.add(f"<</Type/Font/Subtype/CIDFontType0/BaseFont/Heiti/CIDSystemInfo<</Registry(Adobe)"
                f"/Ordering(GB1)/Supplement 5>>/FontDescriptor {desc} 0 R/DW 1000>>")
    cmap = _to_unicode(codes)
    tou = w.add(b"<</Length " + str(len(cmap)).encode() + b"/Filter/FlateDecode>>\nstream\n"
                + cmap + b"\nendstream")
    return w.add(f"<</Type/Font/Subtype/Type0/BaseFont/Heiti/Encoding/UniGB-UTF16-H"
                 f"/DescendantFonts[{cid} 0 R]/ToUnicode {tou} 0 R>>")


def build(pages: list[Page], *, extra_catalog: str = "", break_xref: bool = False,
          page_extra: str = "", title: str | None = None, hook=None) -> bytes:
    """A whole PDF. `extra_catalog` is spliced into the catalog (e.g. an /OpenAction);
    `hook(writer)` may add objects and returns more catalog entries."""
    w = Writer()
    catalog = w.reserve()
    pages_obj = w.reserve()
    font = font_objects(w, _codes(pages))
    kids = []
    images: dict[int, int] = {}
    for page in pages:
        res = f"/Font<</F0 {font} 0 R>>"
        if page.image is not None:
            key = id(page.image[0])
            if key not in images:
                data, wpx, hpx, gray = page.image
                cs = "/DeviceGray" if gray else "/DeviceRGB"
                images[key] = w.stream(data, f"/Type/XObject/Subtype/Image/Width {wpx}/Height {hpx}"
                                             f"/ColorSpace{cs}/BitsPerComponent 8/Filter/DCTDecode",
                                       compress=False)
            res += f"/XObject<</Im0 {images[key]} 0 R>>"
        content = w.stream(_content(page)) if (page.lines or page.image) else None
        contents = f"/Contents {content} 0 R" if content else ""
        kids.append(w.add(f"<</Type/Page/Parent {pages_obj} 0 R/MediaBox[0 0 {page.size[0]} {page.size[1]}]"
                          f"/Resources<<{res}>>{contents}{page_extra}>>"))
    w.set(pages_obj, f"<</Type/Pages/Count {len(kids)}/Kids[{' '.join(f'{k} 0 R' for k in kids)}]>>")
    if hook is not None:
        extra_catalog += hook(w)
    w.set(catalog, f"<</Type/Catalog/Pages {pages_obj} 0 R{extra_catalog}>>")
    info = ""
    if title is not None:
        info = f"/Info {w.add(f'<</Title<FEFF{_hex_utf16(title)}>/Producer(zhicheng generator)>>')} 0 R"
    return w.serialise(catalog, info, break_xref=break_xref)


def text_page(lines: list[str], *, size: float = 11, top: float = 780, left: float = 60,
              leading: float = 18, title: str | None = None) -> Page:
    page = Page()
    y = top
    if title:
        page.lines.append((left + 120, y, 16, title))
        y -= leading * 2
    for line in lines:
        page.lines.append((left, y, size, line))
        y -= leading
    return page


# -- planted faults -----------------------------------------------------------------------
_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def _rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) & 0xFF
        s[i], s[j] = s[j], s[i]
    out = bytearray(len(data))
    i = j = 0
    for n, byte in enumerate(data):
        i = (i + 1) & 0xFF
        j = (j + s[i]) & 0xFF
        s[i], s[j] = s[j], s[i]
        out[n] = byte ^ s[(s[i] + s[j]) & 0xFF]
    return bytes(out)


def encrypted(lines: list[str], *, user_password: str, file_id: bytes) -> bytes:
    """A one-page text PDF under the standard security handler (RC4 40-bit, R2), built
    by hand so the bytes stay deterministic (PyMuPDF and pypdf draw random IDs)."""
    perms = -44
    pad_user = (user_password.encode("latin-1") + _PAD)[:32]
    owner = _rc4(hashlib.md5(pad_user).digest()[:5], pad_user)
    key = hashlib.md5(pad_user + owner + perms.to_bytes(4, "little", signed=True) + file_id).digest()[:5]

    def obj_key(num: int) -> bytes:
        return hashlib.md5(key + num.to_bytes(3, "little") + b"\0\0").digest()[:10]

    def enc_stream(num: int, data: bytes, extra: str = "") -> bytes:
        data = _rc4(obj_key(num), zlib.compress(data, 6))
        return f"<</Length {len(data)}/Filter/FlateDecode{extra}>>\nstream\n".encode() + data + b"\nendstream"

    w = Writer()
    catalog, pages_obj = w.reserve(), w.reserve()
    # a plain Type1 font keeps the encrypted file free of strings to encrypt
    font = w.add("<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>")
    text = "BT /F0 11 Tf 60 780 Td 16 TL " + " ".join(
        f"({line.encode('ascii', 'replace').decode()}) '" for line in lines) + " ET"
    content = w.reserve()
    w.set(content, enc_stream(content, text.encode("latin-1")))
    page = w.add(f"<</Type/Page/Parent {pages_obj} 0 R/MediaBox[0 0 595 842]"
                 f"/Resources<</Font<</F0 {font} 0 R>>>>/Contents {content} 0 R>>")
    w.set(pages_obj, f"<</Type/Pages/Count 1/Kids[{page} 0 R]>>")
    w.set(catalog, f"<</Type/Catalog/Pages {pages_obj} 0 R>>")
    enc = w.add(f"<</Filter/Standard/V 1/R 2/Length 40/O<{owner.hex()}>/U<{_rc4(key, _PAD).hex()}>/P {perms}>>")
    return w.serialise(catalog, f"/Encrypt {enc} 0 R", file_id=file_id)


@lru_cache(maxsize=1)
def _zero_bomb(side: int) -> bytes:
    """side x side zero bytes, deflated twice: hundreds of MB from a few hundred bytes."""
    comp = zlib.compressobj(9)
    chunk = b"\0" * (1 << 20)
    total, parts = side * side, []
    while total > 0:
        parts.append(comp.compress(chunk[:min(total, len(chunk))]))
        total -= len(chunk)
    return zlib.compress(b"".join(parts) + comp.flush(), 9)


def bomb(lines: list[str], side: int = 16000) -> bytes:
    """A page whose image inflates to side² bytes (256 MB, 256 Mpx by default)."""
    w = Writer()
    catalog, pages_obj = w.reserve(), w.reserve()
    page = text_page(lines)
    font = font_objects(w, _codes([page]))
    data = _zero_bomb(side)
    img = w.add(f"<</Type/XObject/Subtype/Image/Width {side}/Height {side}/ColorSpace/DeviceGray"
                f"/BitsPerComponent 8/Length {len(data)}/Filter[/FlateDecode/FlateDecode]>>\nstream\n"
                .encode() + data + b"\nendstream")
    content = w.stream(b"q 595 0 0 842 0 0 cm /Im0 Do Q\n" + _content(page))
    kid = w.add(f"<</Type/Page/Parent {pages_obj} 0 R/MediaBox[0 0 595 842]/Resources<</Font<</F0 {font} 0 R>>"
                f"/XObject<</Im0 {img} 0 R>>>>/Contents {content} 0 R>>")
    w.set(pages_obj, f"<</Type/Pages/Count 1/Kids[{kid} 0 R]>>")
    w.set(catalog, f"<</Type/Catalog/Pages {pages_obj} 0 R>>")
    return w.serialise(catalog)


def many_pages(lines: list[str], count: int = 600) -> bytes:
    """`count` real pages sharing one content stream and inherited resources (MuPDF
    refuses a page tree that claims more pages than the file has objects)."""
    w = Writer()
    catalog, pages_obj = w.reserve(), w.reserve()
    page = text_page(lines)
    font = font_objects(w, _codes([page]))
    content = w.stream(_content(page))
    kids = [w.add(f"<</Type/Page/Parent {pages_obj} 0 R/Contents {content} 0 R>>") for _ in range(count)]
    w.set(pages_obj, f"<</Type/Pages/Count {count}/MediaBox[0 0 595 842]/Resources<</Font<</F0 {font} 0 R>>>>"
                     f"/Kids[{' '.join(f'{k} 0 R' for k in kids)}]>>")
    w.set(catalog, f"<</Type/Catalog/Pages {pages_obj} 0 R>>")
    return w.serialise(catalog)


def deeply_nested(lines: list[str], depth: int = 20000) -> bytes:
    """An ordinary page whose catalog carries an array nested `depth` levels deep."""
    return build([text_page(lines)], extra_catalog="/Nest " + "[" * depth + "0" + "]" * depth)


ACTIVE = {
    "javascript": "/OpenAction<</S/JavaScript/JS(app.alert\\('\\u6ce8\\u610f'\\);)>>",
    "launch": "/OpenAction<</S/Launch/F(cmd.exe)/Win<</F(cmd.exe)/P(/c calc)>>>>",
}


def with_embedded_file(pages: list[Page], name: str, payload: bytes) -> bytes:
    """A PDF carrying an embedded file (/EmbeddedFiles name tree)."""
    def attach(w: Writer) -> str:
        data = zlib.compress(payload)
        ef = w.add(f"<</Type/EmbeddedFile/Length {len(data)}/Filter/FlateDecode>>\nstream\n".encode()
                   + data + b"\nendstream")
        spec = w.add(f"<</Type/Filespec/F({name})/UF({name})/EF<</F {ef} 0 R>>>>")
        return f"/Names<</EmbeddedFiles<</Names[({name}) {spec} 0 R]>>>>"
    return build(pages, hook=attach)
