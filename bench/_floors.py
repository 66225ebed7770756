"""Each stage's floor for the cycle bench: the bare library work it cannot avoid,
measured in the demo's process right after its cycle, on the same machine and files.

- a file stored (intake): read its bytes, SHA-256, write them to a scratch folder;
- a file checked (validation): PyMuPDF (or Pillow for photos) opening and checking it,
  `inspect_bytes` in a plain loop in this process, no worker, no sandbox;
- a certificate laid out (the year-end's issue): our renderer alone (bench/issuance
  `renderer_only`: MuPDF, the chunk font, the QR code, no database, no files, no
  signature). bench/issuance's naive PyMuPDF loop is ~20x that, so the year-end beats it
  by far; it is reported next to the floor (`layout_naive_seconds`), not as the floor;
- a row written (every stage): a bare `executemany` INSERT of small rows into a
  scratch table in one transaction, with the database's own driver (sqlite3, psycopg).
  A stage must at least write the rows it changes (counted by the statements' row
  counts), so rows x that cost is a floor for the database-bound stages.

Each is the CPU time of the loop in this process (time.process_time; on PostgreSQL the
rows' wall time, the server's work being elsewhere): a loop of one thread spends its
CPU whatever else runs on the machine, where its wall time grows with the load, so
the floor stays comparable with the stages' CPU columns on a shared machine.
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


def stage_floor(stage: str, rows_written: float, floors: dict[str, Any]) -> dict[str, float]:
    """The floor of one stage, in parts: (name, seconds)."""
    parts = {"rows": rows_written * floors["row_seconds"]}
    if stage == "intake":
        parts["store_files"] = floors["materials"] * floors["store_file_seconds"]
    elif stage == "validation":
        parts["check_files"] = floors["materials"] * floors["check_file_seconds"]
    elif stage == "year-end":
        parts["layout"] = floors["certificates"] * floors["layout_seconds"]
    return parts
