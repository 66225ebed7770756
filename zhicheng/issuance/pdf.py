"""The certificate PDF: layout with PyMuPDF, the Chinese font embedded and subset, and
the issuer's Ed25519 signature sealed inside the file.

Speed: the naive way (insert the 3.5 MB CJK font into each document, then subset it)
costs ~120 ms a certificate. Here the built-in font is cut down once per chunk (with
fontTools) to the characters that chunk needs; each document then embeds that small
font and MuPDF subsets it to the document's own glyphs (well under 1 ms).

Seal (docs/certificates.md): the document information dictionary carries
/ZhichengCertificate (number:v<version>), /ZhichengKeyId and /ZhichengSignature, the
latter a 128-hex-digit hole. The signed message is the whole file with the hole filled
with "0"s (as PDF signatures exclude /Contents via /ByteRange): Ed25519 over it, the
hex written into the hole. Any other byte changed, added or removed breaks it.
"""
from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import pymupdf as fitz
import qrcode
import qrcode.exceptions
from fontTools import subset as ft_subset
from fontTools.ttLib import TTFont

from zhicheng.config.files import CertificatesFile

SIG_KEY, KEY_ID_KEY, CERT_KEY = "ZhichengSignature", "ZhichengKeyId", "ZhichengCertificate"
SIG_HEX_LEN = 128
_PLACEHOLDER = b"0" * SIG_HEX_LEN
_SEAL = re.compile(rb"/" + SIG_KEY.encode() + rb"\s*\(([0-9a-f]{128})\)")
_KEY_ID = re.compile(rb"/" + KEY_ID_KEY.encode() + rb"\s*\(([0-9A-Za-z\-]{1,64})\)")
_CERT = re.compile(rb"/" + CERT_KEY.encode() + rb"\s*\(([0-9X]{1,18}):v(\d{1,4})\)")
# Characters every certificate may print besides its own values (ASCII for numbers,
# codes and the URL).
_ASCII = "".join(chr(c) for c in range(32, 127))
# The chunk font keeps the characters of earlier chunks up to this many; beyond, it
# starts again from the current chunk (MuPDF subsets each document from it, and a
# smaller source font subsets faster).
MAX_FONT_CHARS = 4000


@dataclass(frozen=True)
class CertificateContent:
    """What one certificate shows (the fields of rules.md)."""

    certificate_no: str
    version: int
    holder_name: str
    holder_gender: str | None
    holder_id_number: str
    qualification_name: str
    series: str
    specialty: str
    level: str
    obtained_by: str
    committee_name: str | None
    approved_on: dt.date
    issued_on: dt.date
    issuer: str
    verification_code: str
    photo: bytes | None = None

    def value(self, attr: str) -> str:
        v = getattr(self, attr)
        if isinstance(v, dt.date):
            return f"{v.year}年{v.month}月{v.day}日"
        return "—" if v in (None, "") else str(v)


class Unsealed(ValueError):
    """The file carries no (or more than one) seal: not a certificate as issued."""


@dataclass(frozen=True)
class Seal:
    certificate_no: str
    version: int
    key_id: str
    signature: bytes
    message: bytes  # the file with the signature hole zeroed: what was signed


def read_seal(data: bytes) -> Seal:
    sigs, keys, certs = (list(rx.finditer(data)) for rx in (_SEAL, _KEY_ID, _CERT))
    if not sigs or not keys or not certs:
        raise Unsealed("文件中没有证书签名信息")
    if len(sigs) > 1 or len(keys) > 1 or len(certs) > 1:
        raise Unsealed("文件中有多处签名信息（文件被追加或改动）")
    m = sigs[0]
    message = data[:m.start(1)] + _PLACEHOLDER + data[m.end(1):]
    return Seal(certificate_no=certs[0][1].decode(), version=int(certs[0][2]),
                key_id=keys[0][1].decode(), signature=bytes.fromhex(m[1].decode()),
                message=message)


class ChunkFont:
    """The built-in CJK font cut down to the characters a chunk of certificates needs."""

    _full: bytes | None = None
    # The full font's glyph names, read once a process: its `post` table has none, so
    # fontTools would derive all 50,000 from the cmap again for every cut (a third of it).
    _glyph_order: list[str] | None = None
    latest: "ChunkFont | None" = None  # the last one cut in this process

    def __init__(self, chars: Iterable[str]) -> None:
        if ChunkFont._full is None:
            ChunkFont._full = fitz.Font("cjk").buffer
        self.chars = frozenset(chars) | frozenset(_ASCII)
        tt = TTFont(io.BytesIO(ChunkFont._full))
        if ChunkFont._glyph_order is None:
            ChunkFont._glyph_order = tt.getGlyphOrder()
        else:
            tt.setGlyphOrder(ChunkFont._glyph_order)
        sub = ft_subset.Subsetter(ft_subset.Options())
        sub.populate(text="".join(sorted(self.chars)))
        sub.subset(tt)
        out = io.BytesIO()
        tt.save(out)
        self.font = fitz.Font(fontbuffer=out.getvalue())

    def covers(self, chars: Iterable[str]) -> bool:
        return self.chars.issuperset(chars)


class Renderer:
    """Lays out certificates as config/certificates.yaml says."""

    def __init__(self, settings: CertificatesFile) -> None:
        self.lay = settings.layout
        self.fields: list[tuple[str, str]] = list(settings.fields)
        self.url = settings.verification_url
        self.footer = settings.footer.format(url=self.url)
        self._font: ChunkFont | None = None
        self._widths: dict[tuple[str, float], float] = {}
        self._qr_version: int | None = None

    def _width(self, text: str, size: float) -> float:
        # Font.text_length is slow; the static texts are measured once per chunk font.
        key = (text, size)
        if key not in self._widths:
            assert self._font is not None, "prepare() chose the chunk's font"
            self._widths[key] = self._font.font.text_length(text, fontsize=size)
        return self._widths[key]

    def static_text(self) -> str:
        lay = self.lay
        return (lay.title.text + lay.subtitle.text + lay.qr.caption + self.footer
                + "".join(label for label, _ in self.fields) + "发证单位照片：年月日—\u3000")

    def prepare(self, contents: Sequence[CertificateContent]) -> None:
        """Make sure the chunk font covers every character these certificates print."""
        chars = set(self.static_text())
        for c in contents:
            chars.update(self._chars(c))
        if self._font is not None and self._font.covers(chars):
            return
        latest = ChunkFont.latest  # another renderer of this process may have cut it already
        if latest is not None and latest.covers(chars):
            self._font, self._widths = latest, {}
            return
        if latest is not None and len(latest.chars) + len(chars) <= MAX_FONT_CHARS:
            chars |= latest.chars  # grow: names repeat, so later chunks rarely cut again
        self._font, self._widths = ChunkFont(chars), {}
        ChunkFont.latest = self._font

    def _chars(self, c: CertificateContent) -> set[str]:
        return set(c.issuer).union(*(c.value(attr) for _, attr in self.fields))

    def verification_url(self, c: CertificateContent) -> str:
        return self.verification_url_for(c.certificate_no, c.verification_code)

    def verification_url_for(self, certificate_no: str, code: str) -> str:
        return f"{self.url}?no={certificate_no}&code={code}"

    def render(self, c: CertificateContent, *, key_id: str, sign: Callable[[bytes], bytes]) -> bytes:
        """The sealed PDF bytes of one certificate."""
        return seal(self.unsealed(c, key_id=key_id), sign)

    def unsealed(self, c: CertificateContent, *, key_id: str) -> bytes:
        """The PDF bytes with the signature hole still empty (`seal` fills it)."""
        if self._font is None or not self._font.covers(self._chars(c)):
            self.prepare([c])
        doc = fitz.open()
        page = doc.new_page(width=self.lay.page.width, height=self.lay.page.height)
        self._draw(page, c)
        doc.subset_fonts()
        self._info(doc, c, key_id)
        # no_new_id: no random /ID, so the same certificate renders to the same bytes
        data = doc.tobytes(garbage=3, deflate=True, no_new_id=True)
        doc.close()
        return data

    def _info(self, doc: fitz.Document, c: CertificateContent, key_id: str) -> None:
        """The document information dictionary, written whole in one object: the same
        bytes as set_metadata and three xref_set_key calls, which re-read and re-parse
        the dictionary on every call (a fifth of a certificate's layout)."""
        stamp = _pdf_date(c.issued_on)
        meta = (("Title", f"{self.lay.title.text} {c.certificate_no}"), ("Author", c.issuer),
                ("Subject", self.lay.subtitle.text), ("Keywords", c.certificate_no),
                ("Creator", "zhicheng"), ("Producer", "zhicheng"), ("CreationDate", stamp), ("ModDate", stamp))
        body = "".join(f"/{k}{fitz.get_pdf_str(v)}" for k, v in meta)
        ours = (f"/{CERT_KEY}({c.certificate_no}:v{c.version})/{KEY_ID_KEY}({key_id})"
                f"/{SIG_KEY}({_PLACEHOLDER.decode()})")
        info = doc.get_new_xref()
        doc.update_object(info, f"<<{body}{ours}>>")
        doc.xref_set_key(-1, "Info", f"{info} 0 R")

    # -- drawing -------------------------------------------------------------
    def _draw(self, page: fitz.Page, c: CertificateContent) -> None:
        assert self._font is not None, "prepare() chose the chunk's font"
        lay, font = self.lay, self._font.font
        w = page.rect.width
        tw = fitz.TextWriter(page.rect)
        for spec in (lay.title, lay.subtitle):
            x = (w - self._width(spec.text, spec.size)) / 2
            tw.append((x, spec.y), spec.text, font=font, fontsize=spec.size)
        f = lay.fields
        # CJK glyphs and the ideographic space are 1 em wide: a label padded to a whole
        # number of ems puts its value where a second column would, in one text run.
        pad = max(1, round((f.x_value - f.x_label) / f.size))
        for i, (label, attr) in enumerate(self.fields):
            y = f.y + i * f.line
            head = (label + "：").ljust(pad, "\u3000")
            value = c.value(attr)
            size = f.size
            if len(value) * size > f.value_width:  # no glyph is wider than 1 em
                width = font.text_length(value, fontsize=size)
                if width > f.value_width:
                    size = size * f.value_width / width
            if size == f.size:
                tw.append((f.x_label, y), head + value, font=font, fontsize=size)
            else:
                tw.append((f.x_label, y), head, font=font, fontsize=f.size)
                tw.append((f.x_label + pad * f.size, y), value, font=font, fontsize=size)
        iss = lay.issuer  # right-aligned, as a seal line is
        for k, line in enumerate((f"发证单位：{c.issuer}", c.value("issued_on"))):
            x = iss.right - self._width(line, iss.size)
            tw.append((x, iss.y + k * iss.size * 1.8), line, font=font, fontsize=iss.size)
        q = lay.qr
        tw.append((q.x + q.size / 2 - self._width(q.caption, 9) / 2,
                   q.y + q.size + 14), q.caption, font=font, fontsize=9)
        ft = lay.footer
        tw.append(((w - self._width(self.footer, ft.size)) / 2, ft.y),
                  self.footer, font=font, fontsize=ft.size)
        has_photo = self._photo(page, c)
        if not has_photo:
            p = lay.photo
            tw.append((p.x + p.width / 2 - 12, p.y + p.height / 2), "照片", font=font,
                      fontsize=12)
        tw.write_text(page, color=lay.colors.text)
        self._vector(page, c, has_photo)

    def _photo(self, page: fitz.Page, c: CertificateContent) -> bool:
        """The holder's photo; False (an empty dashed frame is drawn) when there is none."""
        p = self.lay.photo
        rect = fitz.Rect(p.x, p.y, p.x + p.width, p.y + p.height)
        if c.photo:
            try:
                page.insert_image(rect, stream=c.photo, keep_proportion=True)
                return True
            except Exception:  # an unreadable photo leaves the frame empty, never stops issuance
                pass
        return False

    def _static_ops(self, height: float) -> tuple[str, str]:
        """PDF operators of the frame and of the empty photo frame (the same every time)."""
        fr, col = self.lay.frame, self.lay.colors.frame
        w = self.lay.page.width
        rgb = " ".join(f"{v:g}" for v in col)
        m, g = fr.margin, fr.margin + fr.inner_gap
        frame = (f"q {rgb} RG {fr.width_outer:g} w {m} {m} {w - 2 * m:g} {height - 2 * m:g} re S "
                 f"{fr.width_inner:g} w {g} {g} {w - 2 * g:g} {height - 2 * g:g} re S Q")
        p = self.lay.photo
        photo = (f"q 0.6 G 0.6 w [3 2] 0 d {p.x} {height - p.y - p.height:g} "
                 f"{p.width} {p.height} re S Q")
        return frame, photo

    def _qr_matrix(self, url: str) -> list[list[bool]]:
        q = self.lay.qr
        code = qrcode.QRCode(version=self._qr_version, error_correction=qrcode.constants.ERROR_CORRECT_M,
                             border=0, mask_pattern=q.mask_pattern)
        code.add_data(url)
        try:
            code.make(fit=self._qr_version is None)
        except qrcode.exceptions.DataOverflowError:  # a longer URL than before: find the size again
            code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0,
                                 mask_pattern=q.mask_pattern)
            code.add_data(url)
            code.make(fit=True)
        self._qr_version = code.version  # the URLs of a batch have one length: fit once
        return code.get_matrix()

    def _vector(self, page: fitz.Page, c: CertificateContent, has_photo: bool) -> None:
        """Frames and the QR code as raw path operators in one content stream: the QR
        code is ~400 rectangles, which PyMuPDF's drawing calls would make the slowest
        part of the certificate. One rectangle per run of dark modules."""
        q = self.lay.qr
        height = page.rect.height
        frame, photo = self._static_ops(height)
        matrix = self._qr_matrix(self.verification_url(c))
        cell = q.size / len(matrix)
        top = height - q.y  # PDF space grows upwards
        ops = [frame] if has_photo else [frame, photo]
        ops.append("q 0 g")
        for r, row in enumerate(matrix):
            y = top - (r + 1) * cell
            start = None
            for i, dark in enumerate(row + [False]):
                if dark and start is None:
                    start = i
                elif not dark and start is not None:
                    ops.append(f"{q.x + start * cell:.2f} {y:.2f} {(i - start) * cell:.2f} {cell:.2f} re")
                    start = None
        ops.append("f Q")
        doc = page.parent
        xref = doc.get_new_xref()
        doc.update_object(xref, "<<>>")
        doc.update_stream(xref, "\n".join(ops).encode())
        refs = " ".join(f"{x} 0 R" for x in [*page.get_contents(), xref])
        doc.xref_set_key(page.xref, "Contents", f"[{refs}]")


def seal(data: bytes, sign: Callable[[bytes], bytes]) -> bytes:
    """Fill the signature hole of a rendered PDF with the signature over the file."""
    at = data.find(b"/" + SIG_KEY.encode() + b"(" + _PLACEHOLDER + b")")
    if at < 0 or data.count(_PLACEHOLDER) < 1:
        raise ValueError("rendered PDF has no signature hole")
    start = at + len(SIG_KEY) + 2
    signature = sign(data)
    return data[:start] + signature.hex().encode() + data[start + SIG_HEX_LEN:]


def _pdf_date(day: dt.date) -> str:
    return f"D:{day:%Y%m%d}000000+08'00'"
