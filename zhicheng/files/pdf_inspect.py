"""Look at an uploaded file and say what it is: the facts the material rules judge.

Which library does what, and why:

- PyMuPDF (MuPDF) opens the document, counts pages, reads each page's image
  placements (effective scan resolution), text, and renders the rare page that has
  neither to see whether anything is drawn (blank pages). MuPDF is a C renderer: it
  is the only tool here that knows what a page *looks like*, and it is fast.
- pypdf walks the object graph for active content (JavaScript, launch and other
  actions, embedded files, rich media) as the file is written. Its object model
  resolves indirect references, object streams and name trees into typed
  dictionaries, so the check reads `/S /JavaScript` in an action dictionary rather
  than matching bytes (which misses compressed object streams and trips over the
  same words in text); MuPDF exposes objects only as source strings to re-parse.
- Our own byte scan measures nesting depth before either parser runs: MuPDF silently
  drops an object nested too deep (a 20,000-deep catalog opens as a file with no
  pages) and pypdf recurses.

Hostile files are inspected in a worker subprocess (`Inspector`; how it is started,
sandboxed and talked to is zhicheng.files.inspect_worker) under the limits of
config/policy.yaml `materials.inspect_limits`: hard address space, CPU and file limits,
a wall clock in the parent, and pixel/depth/page limits checked before anything is
decoded. A file that trips one becomes `Inspection(unsafe=...)`; a worker that dies,
hangs or breaks the protocol is discarded and replaced, and the rest of the chunk goes on.
"""
from __future__ import annotations

import atexit
import hashlib
import io
import logging
import os
import re
import signal
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from zhicheng.domain.material_checks import Inspection
from zhicheng.files import inspect_worker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InspectLimits:
    seconds_per_file: float = 20
    memory_mb: int = 512
    max_object_depth: int = 100
    max_image_pixels: int = 60_000_000
    max_pages: int = 200
    scan_min_page_share: float = 0.5
    max_objects: int = 200_000
    worker_cpu_seconds: float = 600   # a worker's lifetime CPU (hard limit); then a fresh one

    @classmethod
    def from_config(cls, config: Any) -> InspectLimits:
        mat = config.policy.materials
        lim = mat.inspect_limits
        return cls(lim.seconds_per_file, lim.memory_mb, lim.max_object_depth, lim.max_image_pixels,
                   mat.max_pages, config.materials.scan_min_page_share,
                   worker_cpu_seconds=lim.worker_cpu_seconds)


class Unsafe(Exception):
    """A limit was hit; args[0] is the reason (material_checks.UNSAFE_NAMES)."""


# -- what a file is, by its first bytes ----------------------------------------------------
_MAGIC = ((b"\xff\xd8\xff", "jpeg"), (b"\x89PNG\r\n\x1a\n", "png"), (b"GIF8", "gif"),
          (b"II*\x00", "tiff"), (b"MM\x00*", "tiff"), (b"BM", "bmp"), (b"PK\x03\x04", "zip"),
          (b"\xd0\xcf\x11\xe0", "ole"), (b"Rar!", "rar"), (b"7z\xbc\xaf", "7z"))


def sniff(data: bytes) -> str:
    if not data:
        return "empty"
    if b"%PDF-" in data[:1024]:   # readers accept a header within the first 1 KB
        return "pdf"
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    try:
        data[:4096].decode("utf-8")
        return "text"
    except UnicodeDecodeError:
        return "unknown"


def inspect_bytes(data: bytes, *, photo: bool, limits: InspectLimits) -> Inspection:
    """Inspect in this process (no isolation: the worker and benchmarks call this)."""
    base: dict[str, Any] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "kind": sniff(data)}
    try:
        if base["kind"] in ("jpeg", "png") and photo:
            return Inspection(**base, **_image(data, limits))
        if base["kind"] == "pdf" and not photo:
            return Inspection(**base, **_pdf(data, limits))
    except Unsafe as exc:
        return Inspection(**base, unsafe=exc.args[0])
    except (MemoryError, RecursionError) as exc:
        return Inspection(**base, unsafe="memory" if isinstance(exc, MemoryError) else "nesting")
    return Inspection(**base)


TEXT_LIMIT = 1 << 20   # characters of text a file may give back (a 备案表 has a few hundred)


def text_of(data: bytes, limits: InspectLimits) -> str:
    """The text layer of a PDF, '' for anything that is not one, does not open, is
    encrypted or passes a limit (no isolation: the worker calls this)."""
    import pymupdf
    try:
        if sniff(data) != "pdf" or nesting_depth(data, limits.max_object_depth) > limits.max_object_depth:
            return ""
        with pymupdf.open(stream=data, filetype="pdf") as doc:
            if doc.needs_pass or doc.page_count > limits.max_pages:
                return ""
            return "\n".join(page.get_text() for page in doc)[:TEXT_LIMIT]
    except Exception:  # noqa: BLE001 - MemoryError and MuPDF's own: no text to read
        return ""


def _image(data: bytes, limits: InspectLimits) -> dict[str, Any]:
    from PIL import Image
    try:
        with Image.open(io.BytesIO(data)) as img:   # reads the header only
            size = img.size
            if size[0] * size[1] > limits.max_image_pixels:
                raise Unsafe("image_pixels")
            img.load()
        return {"image_ok": True, "image_size": size}
    except (Unsafe, MemoryError):
        raise
    except Exception:  # noqa: BLE001 - anything Pillow cannot decode is not a usable photo
        return {"image_ok": False}


# -- PDF --------------------------------------------------------------------------------------
_STREAM = re.compile(rb"stream\r?\n.*?endstream", re.S)
_NESTING = re.compile(rb"\[|\]|<<|>>|\((?:[^()\\]|\\.)*\)", re.S)


def nesting_depth(data: bytes, stop_at: int) -> int:
    """Deepest array/dictionary nesting outside streams and strings (stops early past `stop_at`)."""
    depth = deepest = 0
    for m in _NESTING.finditer(_STREAM.sub(b"", data)):
        tok = m.group()
        if tok in (b"[", b"<<"):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_at:
                    break
        elif tok in (b"]", b">>"):
            depth = max(0, depth - 1)
    return deepest


def _pdf(data: bytes, limits: InspectLimits) -> dict[str, Any]:
    import pymupdf
    if nesting_depth(data, limits.max_object_depth) > limits.max_object_depth:
        raise Unsafe("nesting")
    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except Exception as exc:  # noqa: BLE001 - MuPDF's reasons vary; any is "does not open"
        return {"opens": False, "problem": str(exc)[:200]}
    with doc:
        try:
            return _document(doc, data, limits)
        except (Unsafe, MemoryError, RecursionError):
            raise
        except Exception as exc:  # noqa: BLE001 - a lying page count, a page tree cycle, a bad stream
            return {"opens": False, "problem": str(exc)[:200]}


def _document(doc, data: bytes, limits: InspectLimits) -> dict[str, Any]:
    if doc.needs_pass or doc.is_encrypted or _encrypt_in_trailer(doc):
        return {"encrypted": True}
    if doc.is_repaired:  # MuPDF rebuilt the cross-reference table: the file is broken as written
        return {"opens": False, "problem": "交叉引用表损坏，文件不完整"}
    pages = doc.page_count
    if pages == 0 or pages > limits.max_pages:
        return {"pages": pages}
    active = active_content(data, limits)
    if active:
        return {"pages": pages, "active_content": active}
    blank, dpi = _pages(doc, limits)
    return {"pages": pages, "blank_pages": blank, "scan_dpi": dpi}


def _encrypt_in_trailer(doc) -> bool:
    """The trailer names an /Encrypt dictionary. A file with only an owner password opens
    with the empty user password, and MuPDF then reports it as neither needing a
    password nor encrypted; it is encrypted all the same (rules.md: a material must not be)."""
    return doc.xref_get_key(-1, "Encrypt")[0] != "null"


def _pages(doc, limits: InspectLimits) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...]]:
    # Interpreting a page is the cost (fonts, images): each page is run once, through
    # get_image_info when its resources hold images, else through the bbox log.
    blank, dpis = [], []
    for number, page in enumerate(doc, start=1):
        images = page.get_images(full=True)   # from the resources: nothing decoded yet
        if any(img[2] * img[3] > limits.max_image_pixels for img in images):
            raise Unsafe("image_pixels")
        if images:
            placed = [i for i in page.get_image_info() if abs(_rect(i["bbox"])) > 0]
            scans = [i for i in placed if abs(_rect(i["bbox"])) >= limits.scan_min_page_share * abs(page.rect)]
            if scans:
                dpis.append((number, min(_dpi(i) for i in scans)))
            if placed:
                continue
        if _looks_blank(page):
            blank.append(number)
    return tuple(blank), tuple(dpis)


def _rect(bbox):
    import pymupdf
    return pymupdf.Rect(bbox)


def _dpi(info: Mapping[str, Any]) -> int:
    r = _rect(info["bbox"])
    return round(min(info["width"] / (r.width / 72), info["height"] / (r.height / 72)))


def _looks_blank(page) -> bool:
    """Nothing visible is drawn: no marks at all, or only paths that render all white
    (some producers paint a white background on every page)."""
    import pymupdf
    marks = {kind for kind, box in page.get_bboxlog()
             if not kind.startswith("ignore") and not _rect(box).is_empty}
    if not marks:
        return True
    if any(kind.endswith(("text", "image")) for kind in marks):
        return False
    pix = page.get_pixmap(matrix=pymupdf.Matrix(0.25, 0.25), colorspace=pymupdf.csGRAY, alpha=False)
    return min(pix.samples, default=255) >= 250


# -- active content (pypdf) ------------------------------------------------------------------
_ACTIONS = {"/JavaScript": "javascript", "/Launch": "launch", "/SubmitForm": "submit_form",
            "/ImportData": "import_data", "/RichMediaExecute": "rich_media"}
# keys that lead to page content or back up the tree, never to actions
_SKIP = frozenset({"/Parent", "/Resources", "/Contents", "/P", "/Font", "/XObject", "/Thumb",
                   "/Metadata", "/StructTreeRoot", "/StructParent", "/Dest", "/D"})


def active_content(data: bytes, limits: InspectLimits) -> tuple[str, ...]:
    """Kinds of active content reachable from the catalog (empty: none)."""
    from pypdf import PdfReader
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject
    reader = PdfReader(io.BytesIO(data), strict=False)
    found: set[str] = set()
    seen: set[tuple[int, int]] = set()
    stack: list[Any] = [reader.trailer.raw_get("/Root")]
    visited = 0
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            if (obj.idnum, obj.generation) in seen:
                continue
            seen.add((obj.idnum, obj.generation))
            obj = obj.get_object()
        visited += 1
        if visited > limits.max_objects:
            raise Unsafe("objects")
        if isinstance(obj, DictionaryObject):
            found |= _active_in(obj)
            stack += [obj.raw_get(k) for k in obj if k not in _SKIP]
        elif isinstance(obj, ArrayObject):
            stack += list(obj)
    return tuple(sorted(found))


def _active_in(d: Any) -> set[str]:
    out = set()
    kind = _ACTIONS.get(str(d.get("/S", "")))
    if kind:
        out.add(kind)
    if "/JS" in d or "/JavaScript" in d:
        out.add("javascript")
    if "/EmbeddedFiles" in d or d.get("/Type") == "/EmbeddedFile" or d.get("/Subtype") == "/FileAttachment":
        out.add("embedded_file")
    if d.get("/Subtype") in ("/RichMedia", "/Screen", "/Movie", "/Sound"):
        out.add("rich_media")
    return out


# -- the worker subprocess ---------------------------------------------------------------------
# how a worker's end maps to a finding: SIGXCPU is the per-file CPU limit, SIGKILL the
# kernel's answer to memory it could not give (other ends are crashes)
_DEATHS = {-signal.SIGXCPU: "time", -signal.SIGKILL: "memory"}
T = TypeVar("T")


class Inspector:
    """Inspect files in a worker subprocess (zhicheng.files.inspect_worker: its own
    channel, a minimal environment, hard limits); one worker at a time, replaced when it
    dies, overruns, breaks the protocol or has spent its CPU budget. Use as a context
    manager (the worker is stopped on exit)."""

    entry: Sequence[str] = inspect_worker.ENTRY   # the worker's program (tests run misbehaving ones)

    def __init__(self, limits: InspectLimits) -> None:
        self.limits = limits
        self._current: inspect_worker.Worker | None = None
        self._asked = 0

    def __enter__(self) -> Inspector:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        """The running worker's process id; None when none runs (before the first file,
        after one was discarded or retired)."""
        return self._current.pid if self._current is not None else None

    def close(self) -> None:
        if self._current is not None:
            worker, self._current = self._current, None
            worker.stop()

    def inspect(self, path: Path, *, photo: bool) -> Inspection:
        """What the file is; a file the worker could not answer for is `unsafe` (time,
        memory, crash, or unreadable: its answer broke the protocol twice)."""
        try:
            return self._ask(path, {"photo": photo}, _inspection)
        except _Failed as failed:
            data = path.read_bytes()
            return Inspection(size=len(data), sha256=hashlib.sha256(data).hexdigest(), kind=sniff(data),
                              unsafe=failed.reason)

    def text(self, path: Path) -> str:
        """The file's text layer (text_of) read in the worker; '' where the worker could
        not answer for it (the worker is replaced)."""
        try:
            return self._ask(path, {"text": True}, _text)
        except _Failed:
            return ""

    def _ask(self, path: Path, job: dict[str, Any], read: Callable[[dict[str, Any], int], T]) -> T:
        """The worker's answer about this file. A protocol fault discards the worker and
        the file is asked once more of a fresh one (the fault may be an earlier file's:
        a late answer); a second one fails the file as unreadable."""
        where = os.path.abspath(path)   # the worker runs in "/"
        size = os.stat(where).st_size
        for _ in range(2):
            worker = self._worker()
            self._asked += 1
            request = {**job, "id": self._asked, "path": where}
            try:
                return self._answer(worker, request, size, read)
            except TimeoutError:
                self._end(worker)
                raise _Failed("time") from None
            except (BrokenPipeError, inspect_worker.Died):
                code = self._end(worker, grace=2)
                if code is not None:
                    raise _Failed(_DEATHS.get(code, "crash")) from None
                log.warning("inspector worker %s closed its channel alive on %s: discarded", worker.pid, path)
            except inspect_worker.ProtocolFault as fault:
                self._end(worker)
                log.warning("inspector worker %s broke the protocol on %s (%s): discarded", worker.pid, path, fault)
        raise _Failed("unreadable")

    def _answer(self, worker: inspect_worker.Worker, request: dict[str, Any], size: int,
                read: Callable[[dict[str, Any], int], T]) -> T:
        answer = worker.ask(request, timeout=self.limits.seconds_per_file * 2 + 5)
        echoed = (answer.get("id"), answer.get("path"), answer.get("size"))
        if echoed != (request["id"], request["path"], size):
            raise inspect_worker.ProtocolFault(f"answer {echoed} to request {request['id']} ({size} bytes)")
        try:
            result = read(answer, size)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise inspect_worker.ProtocolFault(f"malformed answer: {exc!r}") from None
        if worker.cpu_left < self.limits.seconds_per_file + 1:
            self.close()   # retired before its hard CPU limit could end it in a file
        return result

    def _worker(self) -> inspect_worker.Worker:
        if self._current is None or self._current.proc.poll() is not None:
            if self._current is not None:
                self._end(self._current)
            self._current = inspect_worker.Worker(self.limits, self.entry)
        return self._current

    def _end(self, worker: inspect_worker.Worker, grace: float = 0) -> int | None:
        if self._current is worker:
            self._current = None
        return worker.end(grace=grace)


class _Failed(Exception):
    """The worker gave no answer for the file; args[0] is the unsafe reason."""

    @property
    def reason(self) -> str:
        return self.args[0]


def _inspection(answer: dict[str, Any], size: int) -> Inspection:
    seen = Inspection.from_dict(answer["inspection"])
    if seen.size != size:
        raise ValueError(f"inspection of {seen.size} bytes")
    return seen


def _text(answer: dict[str, Any], size: int) -> str:
    if not isinstance(answer["text"], str):
        raise TypeError("text is not a string")
    return answer["text"]


# Idle inspectors of this process, by limits: a worker costs half a second to start, so
# chunks reuse them (each chunk holds one at a time); they are stopped at exit.
_IDLE: dict[InspectLimits, list[Inspector]] = {}
_IDLE_LOCK = threading.Lock()


@contextmanager
def pooled(limits: InspectLimits) -> Iterator[Inspector]:
    with _IDLE_LOCK:
        idle = _IDLE.get(limits)
        inspector = idle.pop() if idle else None
    inspector = inspector or Inspector(limits)
    try:
        yield inspector
    finally:
        with _IDLE_LOCK:
            _IDLE.setdefault(limits, []).append(inspector)


@atexit.register
def _stop_idle() -> None:
    with _IDLE_LOCK:
        for inspectors in _IDLE.values():
            for inspector in inspectors:
                inspector.close()
        _IDLE.clear()
