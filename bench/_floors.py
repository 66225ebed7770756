"""Each stage's floor for the cycle bench: the bare library work it cannot avoid,
measured in the demo's process right after its cycle, on the same machine and files.

- a file stored (intake): read its bytes, SHA-256, write them to a scratch folder;
- a file checked (validation): PyMuPDF (or Pillow for photos) opening and checking it,
  `inspect_bytes` in a plain loop in this process, no worker, no sandbox;
- a certificate laid out (the year-end's issue): our renderer alone (bench/issuance
  `renderer_only`: MuPDF, the chunk font, the QR code, no database, no files, no
  signature). bench/issuance's naive PyMuPDF loop is ~20x that, so the year-end beats it
  by far; it is reported next to the floor (`layout_naive_seconds`), not as the floor;
- a request (every stage that calls the hall or the province): urllib3's connection
  pool (what requests sends through, and what the connectors call directly for files:
  connectors/http.py; keep-alive, one thread, no signature) GETting each sampled
  material from a plain HTTP/1.1 file server in a process of its own, so only the
  client's CPU is timed. The contracts take a call for every file downloaded, page
  listed and notice or record sent (docs/connectors.md), so the stage's requests x
  that cost is work it cannot avoid with the stack's HTTP library. A material (about
  34 KB) is larger than a notice and smaller than a listed page;
- a row written (every stage): a bare `executemany` INSERT of small rows into a
  scratch table in one transaction, with the database's own driver (sqlite3, psycopg).
  A stage must at least write the rows it changes (counted by the statements' row
  counts), so rows x that cost is a floor for the database-bound stages;
- the staff files (review, votes, 评前 publicity): every file the demo's staff sent in
  that stage (review decisions, the roster, each session workbook and ballot file, the
  objections) read with the fastest bare reader (a CSV: decoded, `csv.reader`; an XLSX:
  python-calamine, every sheet), and written as the demo's staff write it, with the bare
  writer (`csv.writer`; XlsxWriter in constant-memory mode), both in the stage's floor
  (`read_files`, `staff_files`): our import checks the file first (xlsx_guard) and
  parses every row, and the demo's staff are in the stage's time too;
- the publicity lists (评前 with 初定, 评后): each list's rows (read back from its XLSX)
  written with the bare libraries (`lists`): an XLSX with XlsxWriter in constant-memory
  mode, a PDF with PyMuPDF, a span a cell through MuPDF's own call (`fz_show_string`;
  TextWriter.append costs 7x it, docs/measurements.md), one writer a page, the font subset,
  saved deflated. No title, no column widths, no cut cells: only the cells.

Each is the CPU time of the loop in this process (time.process_time; on PostgreSQL the
rows' wall time, the server's work being elsewhere): a loop of one thread spends its
CPU whatever else runs on the machine, where its wall time grows with the load, so
the floor stays comparable with the stages' CPU columns on a shared machine.
The staff files and the lists are timed whole, each once.
Files are timed over at most FLOOR_SAMPLE of them (BENCH_CYCLE_FLOOR_SAMPLE, default
2000, spread over the year), certificates over 250 (the naive ones over 50), rows over 20,000; each per-item cost
is multiplied by the stage's count. The sample sizes are in the figures.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

FLOOR_SAMPLE = int(os.environ.get("BENCH_CYCLE_FLOOR_SAMPLE", "2000"))
ROWS = 20_000
LAYOUT_SAMPLE = 50   # bench/issuance's least baseline
RENDER_SAMPLE = 250  # a chunk of issuance (policy.yaml chunks.issuance)


def measure(app: Any, certificates: int) -> dict[str, Any]:
    files = _materials(app)
    sample = files[:: max(1, len(files) // FLOOR_SAMPLE)][:FLOOR_SAMPLE]
    from bench.issuance import naive_baseline, renderer_only
    naive = _cpu(naive_baseline, LAYOUT_SAMPLE)     # ~0.3 s a certificate: 50 of them
    layout = _cpu(renderer_only, RENDER_SAMPLE)     # its chunk font cut once, as a chunk does
    return {"materials": len(files), "certificates": certificates,
            "store_file_seconds": _per_item(_store, sample), "check_file_seconds": _per_item(_check, sample),
            "layout_seconds": layout, "layout_naive_seconds": naive, "row_seconds": _row_seconds(app),
            "request_seconds": _request_seconds(Path(app.settings.home), sample),
            "files": _staff_files_and_lists(Path(app.settings.home)),
            "sampled": {"files": len(sample), "certificates": RENDER_SAMPLE, "naive_certificates": LAYOUT_SAMPLE,
                        "rows": ROWS}}


def measure_store(app: Any) -> dict[str, Any]:
    """The floor of a file stored alone (bench/intake), over the same sample as `measure`."""
    files = _materials(app)
    sample = files[:: max(1, len(files) // FLOOR_SAMPLE)][:FLOOR_SAMPLE]
    return {"materials": len(files), "store_file_seconds": _per_item(_store, sample), "sampled": len(sample)}


def _materials(app: Any) -> list[tuple[Path, bool]]:
    from sqlalchemy import select

    from zhicheng.db.models import Material
    home = Path(app.settings.home)
    with app.sessions() as s:
        rows = s.execute(select(Material.storage_path, Material.type)
                         .where(Material.storage_path.is_not(None)).order_by(Material.id)).all()
    return [(home / p, t == "photo") for p, t in rows if (home / p).is_file()]


def _cpu(fn, n: int) -> float:
    """CPU seconds an item of fn(n) (a loop in this process)."""
    started = time.process_time()
    fn(n)
    return (time.process_time() - started) / n


def _per_item(fn, items: list) -> float:
    if not items:
        return 0.0
    started = time.process_time()
    fn(items)
    return (time.process_time() - started) / len(items)


def _store(items: list[tuple[Path, bool]]) -> None:
    out = Path(tempfile.mkdtemp(prefix="floor-store-"))
    try:
        for path, _ in items:
            data = path.read_bytes()
            (out / hashlib.sha256(data).hexdigest()).write_bytes(data)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _check(items: list[tuple[Path, bool]]) -> None:
    from zhicheng.config import get_config
    from zhicheng.files.pdf_inspect import InspectLimits, inspect_bytes
    limits = InspectLimits.from_config(get_config())
    for path, photo in items:
        try:
            inspect_bytes(path.read_bytes(), photo=photo, limits=limits)
        except Exception:  # noqa: BLE001 - a hostile file is checked too: its failure is the check
            pass


# A plain HTTP/1.1 file server (keep-alive, like the connectors' sessions), on a free port
# it prints; it runs in a process of its own so the floor is the client's CPU alone.
_FILE_SERVER = """
import functools, http.server, sys
class Files(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True   # headers and body are two writes: no 40 ms for the ACK
    def log_message(self, *args): pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Files, directory=sys.argv[1]))
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def _request_seconds(home: Path, items: list[tuple[Path, bool]]) -> float:
    """CPU seconds of one bare request: each sampled material downloaded once."""
    import subprocess
    import sys

    import urllib3
    if not items:
        return 0.0
    server = subprocess.Popen([sys.executable, "-c", _FILE_SERVER, str(home)], stdout=subprocess.PIPE, text=True)
    try:
        http = urllib3.HTTPConnectionPool("127.0.0.1", int(server.stdout.readline()), maxsize=1, retries=False)
        paths = ["/" + path.relative_to(home).as_posix() for path, _ in items]
        _fetched(http, paths[0])   # the connection made before the clock starts
        started = time.process_time()
        for path in paths:
            _fetched(http, path)
        return (time.process_time() - started) / len(paths)
    finally:
        server.kill()
        server.wait()


def _fetched(http: Any, path: str) -> bytes:
    got = http.request("GET", path)
    if got.status != 200:
        raise RuntimeError(f"the floor's file server answered {got.status} for {path}")
    return got.data


def _row_seconds(app: Any) -> float:
    rows = [(i, f"{i:012d}", "办件" * 40, i % 7) for i in range(ROWS)]
    if app.engine.dialect.name == "postgresql":
        return _row_seconds_postgres(app, rows)
    import sqlite3
    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite3.connect(Path(tmp) / "floor.db", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT, v TEXT, n INTEGER)")
        started = time.process_time()
        db.execute("BEGIN")
        db.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", rows)
        db.execute("COMMIT")
        seconds = time.process_time() - started
        db.close()
    return seconds / ROWS


def _row_seconds_postgres(app: Any, rows: list[tuple]) -> float:
    import psycopg
    url = app.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as db:
        db.execute("CREATE TEMP TABLE floor_rows (id integer PRIMARY KEY, k text, v text, n integer)")
        db.commit()
        started = time.perf_counter()
        with db.cursor() as cur:
            cur.executemany("INSERT INTO floor_rows VALUES (%s, %s, %s, %s)", rows)
        db.commit()
        return (time.perf_counter() - started) / ROWS


# The demo's files of each stage (zhicheng.demo.driver): what its staff send in, and
# the publicity lists (publicity-<window>-<kind>.pdf/.xlsx) the stage writes.
STAFF_FILES = {"review": ("review-*.csv", "review-*.xlsx"),
               "votes": ("roster.csv", "session-*.xlsx", "ballots-*.csv"),
               "评前 publicity": ("objections.csv",)}
LISTS = {"评前 publicity": ("publicity-*-评前.xlsx", "publicity-*-初定.xlsx"),
         "评后 publicity": ("publicity-*-评后.xlsx",)}


def _staff_files_and_lists(home: Path) -> dict[str, dict[str, Any]]:
    """Per stage: CPU seconds reading its staff files bare, writing them bare and
    writing its lists bare, and how many files and rows each part took."""
    import pymupdf  # noqa: F401 - imported before the clocks start: a process imports them once
    import python_calamine  # noqa: F401
    import xlsxwriter  # noqa: F401
    out: dict[str, dict[str, Any]] = {}
    scratch = Path(tempfile.mkdtemp(prefix="floor-files-"))
    try:
        for stage, patterns in STAFF_FILES.items():
            files = sorted(f for p in patterns for f in (home / "demo-files").glob(p))
            out.setdefault(stage, {}).update(_staff_files(scratch, files))
        for stage, patterns in LISTS.items():
            lists = [f for p in patterns for f in sorted((home / "publicity").glob(p))]
            out.setdefault(stage, {}).update(_lists(scratch, lists))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return out


def _staff_files(scratch: Path, files: list[Path]) -> dict[str, Any]:
    started = time.process_time()
    books = [_read_bare(f) for f in files]
    read = time.process_time() - started
    started = time.process_time()
    for f, book in zip(files, books, strict=True):
        _write_bare(scratch, f, book)
    return {"read_files": read, "staff_files": time.process_time() - started, "staff_file_count": len(files),
            "staff_rows": sum(len(rows) for book in books for rows in book.values())}


def _lists(scratch: Path, lists: list[Path]) -> dict[str, Any]:
    books = [_read_bare(f) for f in lists]   # the lists' cells, read back: not timed
    started = time.process_time()
    for n, book in enumerate(books):
        _list_bare(scratch, n, book)
    return {"lists": time.process_time() - started, "list_count": len(lists),
            "list_rows": sum(len(rows) for book in books for rows in book.values())}


def _read_bare(path: Path) -> dict[str, list[list]]:
    """Every sheet's rows, as the fastest bare reader gives them."""
    if path.suffix == ".csv":
        import csv
        import io
        return {"": list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))}
    import python_calamine
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    try:
        return {name: book.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in book.sheet_names}
    finally:
        book.close()


def _write_bare(scratch: Path, path: Path, sheets: dict[str, list[list]]) -> None:
    if path.suffix == ".csv":
        import csv
        with (scratch / path.name).open("w", encoding="utf-8-sig", newline="") as fh:
            csv.writer(fh).writerows(sheets[""])
        return
    _xlsx_bare(scratch / path.name, sheets)


def _xlsx_bare(path: Path, sheets: dict[str, list[list]]) -> None:
    import xlsxwriter
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "tmpdir": str(path.parent)})
    for name, rows in sheets.items():
        ws = book.add_worksheet(name)
        for r, values in enumerate(rows):
            for c, v in enumerate(values):
                ws.write(r, c, v)
    book.close()


def _list_bare(scratch: Path, n: int, sheets: dict[str, list[list]]) -> None:
    """One publicity list: its cells as an XLSX and as a PDF, nothing else."""
    import pymupdf
    rows = next(iter(sheets.values()))
    _xlsx_bare(scratch / f"list-{n}.xlsx", {"名单": rows})
    m, font, doc = pymupdf.mupdf, pymupdf.Font("china-s"), pymupdf.open()
    language, per_page = m.fz_text_language_from_string(None), 30
    for start in range(0, len(rows), per_page):
        page = doc.new_page(width=842, height=595)
        writer = pymupdf.TextWriter(page.rect)
        for i, row in enumerate(rows[start:start + per_page]):
            for c, v in enumerate(row):
                at = m.fz_make_matrix(9, 0, 0, 9, 36 + 120 * c, 540 - 16 * i)
                m.fz_show_string(writer.this, font.this, at, str(v), 0, 0, 0, language)
        writer.write_text(page)
    doc.subset_fonts()
    (scratch / f"list-{n}.pdf").write_bytes(doc.tobytes(garbage=3, deflate=True))
    doc.close()


# Stages with no floor of their own: 学信's time is the requests 学信 answers (bench/cycle
# reports them at its granted rate), and a resubmission round takes in ten forms, its
# time the two flows' fixed cost. Their few rows alone would give ratios in the millions.
NO_FLOOR = ("学信", "resubmissions")


def stage_floor(stage: str, rows_written: float, floors: dict[str, Any],
                requests: float = 0) -> dict[str, float]:
    """The floor of one stage, in parts: (name, seconds); none for NO_FLOOR's stages.
    `requests`: the calls the stage made to the hall and the province."""
    if stage in NO_FLOOR:
        return {}
    parts = {"rows": rows_written * floors["row_seconds"]}
    if requests and "request_seconds" in floors:   # runs measured before had no such part
        parts["requests"] = requests * floors["request_seconds"]
    files = floors.get("files", {}).get(stage, {})
    parts.update({k: files[k] for k in ("read_files", "staff_files", "lists") if k in files})
    if stage == "intake":
        parts["store_files"] = floors["materials"] * floors["store_file_seconds"]
    elif stage == "validation":
        parts["check_files"] = floors["materials"] * floors["check_file_seconds"]
    elif stage == "year-end":
        parts["layout"] = floors["certificates"] * floors["layout_seconds"]
    return parts
