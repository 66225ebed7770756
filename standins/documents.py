"""The files of a synthetic application: scans, text PDFs, the 学信 report, the photo.

Speed: scanned pages come from a small pool of JPEG images rendered once per process
(a form, a certificate, an ID card, at the configured dpi); each file adds its own
text layer (the applicant's name, ID and the document's own lines), so every file is
unique by content while the image bytes are shared. Text PDFs are written by
`pdfwriter`, which is deterministic and takes a fraction of a millisecond.
"""
from __future__ import annotations

import io
import random
from functools import lru_cache

from PIL import Image, ImageDraw

from zhicheng.standins import pdfwriter as pw
from zhicheng.standins.pdfwriter import Page

A4_INCHES = (595 / 72, 842 / 72)
PHOTO_SIZE = (390, 567)  # 大一寸 33 mm x 48 mm at 300 dpi, rounded


@lru_cache(maxsize=64)
def scan_image(kind: str, variant: int, dpi: int, quality: int = 35, noise: bool = False) -> tuple[bytes, int, int]:
    """A grey scan of an A4 page at `dpi`: JPEG bytes, width, height (cached)."""
    w, h = round(A4_INCHES[0] * dpi), round(A4_INCHES[1] * dpi)
    rng = random.Random(f"scan:{kind}:{variant}:{dpi}")
    img = Image.new("L", (w, h), 238 + rng.randrange(10))
    d = ImageDraw.Draw(img)
    u = dpi / 150  # drawing unit: shapes scale with the resolution
    if kind == "card":  # front and back of a resident ID card
        for top in (0.12, 0.52):
            box = (int(w * 0.2), int(h * top), int(w * 0.8), int(h * top + w * 0.6 * 0.63))
            d.rounded_rectangle(box, radius=int(20 * u), outline=90, width=max(1, int(3 * u)))
            for k in range(5):
                y = box[1] + int((40 + 45 * k) * u)
                d.line((box[0] + int(30 * u), y, box[0] + int((200 + rng.randrange(200)) * u), y), fill=120,
                       width=max(1, int(6 * u)))
    else:
        d.rectangle((int(80 * u), int(80 * u), w - int(80 * u), h - int(80 * u)), outline=60,
                    width=max(1, int(4 * u if kind == "certificate" else 2 * u)))
        rows = 12 if kind == "certificate" else 30
        for k in range(rows):
            y = int((200 + k * (1300 / rows)) * u)
            x1 = int((150 + rng.randrange(100)) * u)
            d.line((x1, y, x1 + int((500 + rng.randrange(450)) * u), y), fill=90 + rng.randrange(60),
                   width=max(1, int((5 if kind == "certificate" else 3) * u)))
        if kind in ("certificate", "form"):  # the red seal, scanned grey
            cx, cy, r = int(w * 0.7), int(h * 0.78), int(110 * u)
            d.ellipse((cx - r, cy - r, cx + r, cy + r), outline=110, width=max(1, int(6 * u)))
    if noise:  # paper grain that JPEG cannot squeeze: an oversized but honest scan
        grain = Image.effect_noise((w, h), 40).point(lambda v: v // 3)
        img = Image.blend(img, grain.convert("L"), 0.35)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, optimize=False)
    return buf.getvalue(), w, h


def scan_page(kind: str, variant: int, dpi: int, caption: list[str], **kw) -> Page:
    data, w, h = scan_image(kind, variant % 3, dpi, **kw)
    page = Page(image=(data, w, h, True))
    y = 822
    for line in caption:  # the OCR-like text layer of a scanning app
        page.lines.append((40, y, 8, line))
        y -= 11
    return page


def photo(rng: random.Random, size: tuple[int, int] = PHOTO_SIZE) -> bytes:
    """An ID photo (证件照): plain background, head and shoulders, JPEG."""
    w, h = size
    bg = rng.choice([(67, 142, 219), (255, 255, 255), (214, 35, 35), (60, 130, 210)])
    img = Image.new("RGB", (w, h), bg)
    d = ImageDraw.Draw(img)
    skin = (rng.randrange(215, 245), rng.randrange(175, 205), rng.randrange(150, 180))
    cx, top = w // 2 + rng.randrange(-8, 9), int(h * (0.18 + rng.random() * 0.05))
    hw, hh = int(w * 0.23), int(h * 0.21)
    d.ellipse((cx - w // 2.2, int(h * 0.68), cx + w // 2.2, h + h // 3),
              fill=rng.choice([(30, 30, 40), (245, 245, 245), (40, 50, 90)]))
    d.rectangle((cx - hw // 3, top + hh * 2 - 10, cx + hw // 3, int(h * 0.72)), fill=skin)
    d.ellipse((cx - hw, top, cx + hw, top + hh * 2), fill=skin)
    hair = rng.randrange(10, 50)
    d.chord((cx - hw - 4, top - 12, cx + hw + 4, top + hh), 180, 360, fill=(hair, hair, hair))
    for ex in (-1, 1):
        d.ellipse((cx + ex * hw // 2 - 6, top + hh - 6, cx + ex * hw // 2 + 6, top + hh + 4), fill=(20, 20, 20))
    d.arc((cx - 18, top + int(hh * 1.4), cx + 18, top + int(hh * 1.6)), 20, 160, fill=(150, 60, 60), width=3)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=82, dpi=(300, 300))
    return buf.getvalue()


def text_pdf(title: str, lines: list[str], per_page: int = 36, doc_title: str | None = None) -> bytes:
    pages = [pw.text_page(lines[i:i + per_page], title=title if i == 0 else None)
             for i in range(0, max(1, len(lines)), per_page)]
    return pw.build(pages, title=doc_title or title)


def scan_pdf(kind: str, variant: int, dpi: int, captions: list[list[str]], title: str, **kw) -> bytes:
    return pw.build([scan_page(kind, variant + k, dpi, cap, **kw) for k, cap in enumerate(captions)],
                    title=title)


def wrap(text: str, width: int = 38) -> list[str]:
    """Lines of at most `width` characters, paragraph breaks kept."""
    out: list[str] = []
    for para in text.split("\n"):
        out.extend(para[i:i + width] for i in range(0, max(1, len(para)), width))
    return out
