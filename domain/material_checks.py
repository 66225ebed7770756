"""Rules of rules.md "Materials" for one uploaded file, over plain data.

The inspector (zhicheng.files.pdf_inspect) looks at the bytes and fills an
`Inspection`; these rules compare it with what the hall declared and with the limits
of config/policy.yaml `materials`, and say what is wrong as findings. Nothing here
reads a file.

Order matters and mirrors what an applicant can fix: a file that is not the declared
upload (size or SHA-256 differ) is judged on nothing else; a file that is not a PDF, or
cannot be opened, is judged on nothing that needs its pages.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from zhicheng.domain.findings import Catalogue, Finding

# what a file is by its first bytes, in the words of a not_pdf finding
KIND_NAMES = {"jpeg": "JPEG图片", "png": "PNG图片", "gif": "GIF图片", "tiff": "TIFF图片",
              "bmp": "BMP图片", "zip": "Word/Excel文档或压缩包", "ole": "旧版Word/Excel文档",
              "rar": "RAR压缩包", "7z": "7z压缩包", "text": "文本文件", "unknown": "无法识别的文件",
              "empty": "空文件", "pdf": "PDF文件"}
ACTIVE_NAMES = {"javascript": "JavaScript脚本", "launch": "启动外部程序", "embedded_file": "嵌入文件",
                "rich_media": "多媒体脚本", "submit_form": "表单提交", "import_data": "数据导入"}
UNSAFE_NAMES = {"time": "检查超时", "memory": "占用内存过大", "nesting": "对象嵌套过深",
                "image_pixels": "图像像素过大", "crash": "文件导致检查程序异常退出",
                "objects": "对象数量过多", "unreadable": "检查程序的结果无法读取"}


@dataclass(frozen=True)
class Inspection:
    """What the inspector saw in one file (pages are numbered from 1)."""

    size: int
    sha256: str
    kind: str                                  # by content: pdf, jpeg, png, zip, ... (KIND_NAMES)
    unsafe: str | None = None                  # a limit was hit (UNSAFE_NAMES): nothing else is known
    opens: bool = True                         # PDF: opens as written (not only after repair)
    problem: str | None = None                 # why it does not open, for people
    encrypted: bool = False
    pages: int | None = None
    active_content: tuple[str, ...] = ()       # ACTIVE_NAMES
    blank_pages: tuple[int, ...] = ()
    scan_dpi: tuple[tuple[int, int], ...] = ()  # (page, lowest effective dpi of its scans)
    image_ok: bool = False                     # image: decodes as its kind
    image_size: tuple[int, int] | None = None  # image: width, height in pixels

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Inspection:
        tuples = {"active_content": tuple, "blank_pages": tuple,
                  "scan_dpi": lambda v: tuple(tuple(p) for p in v),
                  "image_size": lambda v: tuple(v) if v is not None else None}
        fields: dict[str, Any] = {k: tuples[k](v) if k in tuples else v for k, v in d.items()
                                  if k in cls.__dataclass_fields__}
        return cls(**fields)


@dataclass(frozen=True)
class Declared:
    """A material as the hall declared it."""

    material_id: str
    type: str
    file_name: str
    size: int | None
    sha256: str | None


@dataclass(frozen=True)
class Limits:
    max_attachment_kb: int
    large_attachment_kb: int
    large_types: frozenset[str]
    max_pages: int
    min_scan_dpi: int
    photo_ratio: float          # width / height of 大一寸
    photo_tolerance: float
    photo_min_px: tuple[int, int]

    @classmethod
    def from_policy(cls, materials: Any) -> Limits:
        """From policy.yaml `materials` (zhicheng.config.policy.Materials)."""
        photo = materials.photo
        return cls(materials.max_attachment_kb, materials.large_attachment_kb,
                   frozenset(materials.large_types), materials.max_pages,
                   materials.min_scan_dpi, photo.width_mm / photo.height_mm,
                   photo.tolerance, (photo.min_width_px, photo.min_height_px))


def file_findings(m: Declared, seen: Inspection, limits: Limits, cat: Catalogue) -> list[Finding]:
    """Every finding of one uploaded file."""
    def make(code: str, **params: Any) -> Finding:
        return cat.make(code, material_id=m.material_id, file_name=m.file_name, **params)

    mismatch = _declared_mismatch(m, seen)
    if mismatch:
        return [make("material.hash_mismatch", detail=mismatch)]
    out = []
    limit_kb = size_limit_kb(m.type, limits)
    if seen.size > limit_kb * 1024:
        out.append(make("material.too_large", size_kb=-(-seen.size // 1024), limit_kb=limit_kb))
    if seen.unsafe:
        return out + [make("material.unsafe", detail=UNSAFE_NAMES.get(seen.unsafe, seen.unsafe))]
    if m.type == "photo":
        return out + photo_findings(seen, limits, make)
    if seen.kind != "pdf":
        return out + [make("material.not_pdf", detail=KIND_NAMES.get(seen.kind, seen.kind))]
    return out + pdf_findings(seen, limits, make)


def size_limit_kb(material_type: str, limits: Limits) -> int:
    """rules.md: 500 KB an attachment, 10,000 KB one of 业绩, 奖项, 论文论著."""
    return limits.large_attachment_kb if material_type in limits.large_types else limits.max_attachment_kb


def download_cap(m: Declared, limits: Limits) -> int:
    """Bytes of an upload worth reading at most: its type's size limit, or its declared
    size when that is less (more than declared is not the declared upload)."""
    limit = size_limit_kb(m.type, limits) * 1024
    return min(limit, m.size) if m.size is not None and m.size >= 0 else limit


def beyond_cap_finding(m: Declared, length: int | None, cap: int, limits: Limits, cat: Catalogue) -> Finding:
    """The finding of an upload the hall sent beyond its `download_cap` (not downloaded):
    too large when the cap was the size limit, else (the cap was a smaller declared
    size) not the declared upload. Its size is the hall's Content-Length, or at least
    one byte more than the cap."""
    size = length if length is not None else cap + 1
    limit_kb = size_limit_kb(m.type, limits)
    if cap >= limit_kb * 1024:
        return cat.make("material.too_large", material_id=m.material_id, file_name=m.file_name,
                        size_kb=-(-size // 1024), limit_kb=limit_kb)
    got = f"{length}字节" if length is not None else f"超过{cap}字节"
    return cat.make("material.hash_mismatch", material_id=m.material_id, file_name=m.file_name,
                    detail=f"申报大小{m.size}字节，实际收到{got}")


def _declared_mismatch(m: Declared, seen: Inspection) -> str | None:
    if m.size is not None and m.size != seen.size:
        return f"申报大小{m.size}字节，实际收到{seen.size}字节"
    if m.sha256 is not None and m.sha256.lower() != seen.sha256:
        return "文件校验值（SHA-256）不一致"
    return None


def photo_findings(seen: Inspection, limits: Limits, make) -> list[Finding]:
    if seen.kind not in ("jpeg", "png") or not seen.image_ok or seen.image_size is None:
        return [make("photo.not_image")]
    w, h = seen.image_size
    if h == 0 or abs(w / h / limits.photo_ratio - 1) > limits.photo_tolerance:
        return [make("photo.proportions", detail=f"{w}×{h}像素")]
    if w < limits.photo_min_px[0] or h < limits.photo_min_px[1]:
        return [make("photo.resolution", detail=f"{w}×{h}")]
    return []


def pdf_findings(seen: Inspection, limits: Limits, make) -> list[Finding]:
    # Each of these leaves nothing sound to look at behind it, so it is the only finding.
    if not seen.opens:
        return [make("material.corrupt", detail=seen.problem or "")]
    if seen.encrypted:
        return [make("material.encrypted")]
    if not seen.pages:
        return [make("material.empty")]
    if seen.pages > limits.max_pages:
        return [make("material.too_many_pages", detail=seen.pages, limit=limits.max_pages)]
    if seen.active_content:
        return [make("material.active_content",
                     detail="、".join(ACTIVE_NAMES.get(a, a) for a in seen.active_content))]
    out = []
    if seen.blank_pages:
        out.append(make("material.blank_page", detail=_pages(seen.blank_pages)))
    low = [(p, dpi) for p, dpi in seen.scan_dpi if dpi < limits.min_scan_dpi]
    if low:
        out.append(make("material.low_resolution", detail=_pages(p for p, _ in low),
                        value=min(d for _, d in low), limit=limits.min_scan_dpi))
    return out


def _pages(pages) -> str:
    return "、".join(str(p) for p in pages)
