"""Issuance throughput, against a naive baseline measured in the same run.

Baseline (the issue's "naive loop"): per certificate, a PyMuPDF document with the full
built-in CJK font inserted, the same text, `subset_fonts()`, `tobytes()`.
Measured: (1) our renderer alone; (2) the whole issuance (numbers, render, sign, files
with fsync, Merkle, DB rows, outbox) on SQLite in one process; (3) on PostgreSQL with
two worker processes (two issuers, so their counters do not serialise them), if it is
reachable. Also bytes per certificate and peak memory for two batch sizes, each
batch in a fresh process (its own peak, not this process's).

Each figure also in CPU seconds of the process (time.process_time, the file-writing
threads' included): on a machine shared with other jobs the wall-clock ratios move with
the load from one phase to the next, the CPU ones much less (the naive loop and the
issuance alike lose a core's share, not CPU). The wall ratios are the issue's targets,
on a quiet machine; the CPU ones say whether the code moved. PostgreSQL's CPU is the two
issuing processes' only (the server's is elsewhere), so it has no ratio.

Environment: BENCH_ISSUANCE_COUNT (default 1000), BENCH_ISSUANCE_BASELINE (default 50,
never fewer: a handful of naive certificates gave ratios that moved by a fifth between
runs, issue 25).
"""
from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import resource
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import pymupdf as fitz

# LAYOUT_HERE: the batches here run in processes that multiprocessing started, and such
# a process joins its children before the executors' exit hooks stop them, so layout
# workers would keep it from ending; the issuing process lays certificates out itself.
# bench/cycle measures issuance with its layout workers (the year-end stage).
COUNT = int(os.environ.get("BENCH_ISSUANCE_COUNT", "1000"))
BASELINE_MIN = 50
BASELINE_N = max(BASELINE_MIN, int(os.environ.get("BENCH_ISSUANCE_BASELINE", str(BASELINE_MIN))))
PG_URL = os.environ.get("ZHICHENG_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
AS_OF = dt.datetime(2026, 12, 28, 20, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def _content(i: int):
    from zhicheng.demo.issuance_samples import person_name
    from zhicheng.issuance.pdf import CertificateContent
    return CertificateContent(
        certificate_no=f"32010020263{i:06d}X", version=1, holder_name=person_name(i), holder_gender="男",
        holder_id_number="320102198001010008", qualification_name="工程师", series="工程",
        specialty="电气工程", level="中级", obtained_by="评审",
        committee_name="南京市工程系列中级职称评审委员会", approved_on=dt.date(2026, 12, 1),
        issued_on=dt.date(2026, 12, 28), issuer="南京市人力资源和社会保障局",
        verification_code="K7QM-2D9X-HC4T")


def naive_baseline(n: int) -> tuple[float, int]:
    """Seconds per certificate and bytes of the last one, the naive way."""
    from zhicheng.config import get_config
    fields = get_config().certificates.fields
    full = fitz.Font("cjk").buffer
    started = time.perf_counter()
    for i in range(n):
        c = _content(i)
        doc = fitz.open()
        page = doc.new_page(width=842, height=595)
        page.insert_font(fontname="F0", fontbuffer=full)
        page.insert_text((300, 80), "专业技术资格证书", fontname="F0", fontsize=30)
        for k, (label, attr) in enumerate(fields):
            page.insert_text((215, 170 + 22 * k), f"{label}：{c.value(attr)}", fontname="F0", fontsize=12.5)
        doc.subset_fonts()
        data = doc.tobytes(garbage=3, deflate=True)
        doc.close()
    return (time.perf_counter() - started) / n, len(data)


def renderer_only(n: int) -> tuple[float, list[int]]:
    from zhicheng.config import get_config
    from zhicheng.issuance.keys import KeyStore
    from zhicheng.issuance.pdf import Renderer
    r = Renderer(get_config().certificates)
    with tempfile.TemporaryDirectory() as tmp:
        key = KeyStore(Path(tmp)).signing_key("320100", auto_generate=True)
        contents = [_content(i) for i in range(n)]
        started = time.perf_counter()
        r.prepare(contents)
        sizes = [len(r.render(c, key_id=key.key_id, sign=key.sign)) for c in contents]
    return (time.perf_counter() - started) / n, sizes


def _app(home: Path, url: str, schema: str | None = None):
    from zhicheng.bootstrap import build_app
    from zhicheng.clock import FixedClock
    from zhicheng.db.engine import make_engine, unit_of_work
    from zhicheng.reference import sync_reference_data
    from zhicheng.schema import Base
    from zhicheng.settings import Settings
    settings = Settings(home=home, database_url=url, database_schema=schema)
    engine = make_engine(url, schema=schema)
    Base.metadata.create_all(engine)
    app = build_app(settings=settings, clock=FixedClock(AS_OF), engine=engine)
    with unit_of_work(app.sessions) as s:
        sync_reference_data(session=s, config=app.config)
    return app


def _seed(app, committees: dict[str, int]) -> None:
    from zhicheng.db.engine import unit_of_work
    from zhicheng.demo.issuance_samples import add_approved
    start = 0
    for committee, n in committees.items():
        with unit_of_work(app.sessions) as s:
            add_approved(session=s, config=app.config, count=n, start=start, committee_id=committee)
        start += n


def whole_issuance_sqlite(n: int) -> dict:
    from zhicheng.issuance.service import IssueContext, issue_batch
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        app = _app(home, f"sqlite:///{home / 'bench.db'}")
        _seed(app, {"NJ-GC-ZJ": n})
        ctx = IssueContext.for_app(app)
        ctx.renderer.processes = 1   # see LAYOUT_HERE
        ctx.keystore.signing_key("320100", auto_generate=True)
        started, cpu = time.perf_counter(), time.process_time()
        out = issue_batch(app=app, ctx=ctx)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        sizes = [p.stat().st_size for p in (home / "certificates").rglob("*.pdf")]
        app.engine.dispose()
    assert out["issued"] == n, out
    return {"seconds": seconds, "per_second": n / seconds, "cpu_seconds": cpu, "sizes": sizes,
            "peak_rss_mb": _rss_mb()}


def in_fresh_process(fn, *args):
    """Run fn in a spawned process of its own: its peak RSS is then that batch's alone
    (ru_maxrss never falls, so in this process it would still show the baseline's full
    font and the renderer-only run, and two batch sizes could not differ)."""
    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn, args)


def _worker(args, barrier, results) -> None:
    results.put(_work(args, barrier))


def _work(args, barrier) -> tuple[int, float, float, float]:
    home, url, schema, committee = args
    from zhicheng.issuance.service import IssueContext, issue_batch
    app = _app(Path(home), url, schema)
    ctx = IssueContext.for_app(app)
    ctx.renderer.processes = 1   # see LAYOUT_HERE
    barrier.wait(120)  # both processes ready (imports, engine): start together
    started, cpu = time.time(), time.process_time()  # wall clock: comparable across the two processes
    out = issue_batch(app=app, ctx=ctx, committee=committee)
    ended, cpu = time.time(), time.process_time() - cpu
    app.engine.dispose()
    return out["issued"], started, ended, cpu


def two_workers_postgres(n: int) -> dict | None:
    from sqlalchemy import create_engine, text
    try:
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as c:
            c.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # no PostgreSQL here: report, do not fail
        return {"skipped": f"PostgreSQL not reachable ({type(exc).__name__})"}
    home = Path(tempfile.mkdtemp())
    try:
        app = _app(home, PG_URL, schema)
        _seed(app, {"NJ-GC-ZJ": n // 2, "TZ-GC-ZJ": n - n // 2})
        from zhicheng.issuance.keys import KeyStore
        ks = KeyStore.for_home(home)
        for issuer in ("320100", "321200"):
            ks.generate(issuer, now=AS_OF)
        app.engine.dispose()
        args = [(str(home), PG_URL, schema, c) for c in ("NJ-GC-ZJ", "TZ-GC-ZJ")]
        spawn = mp.get_context("spawn")
        barrier, queue = spawn.Barrier(2), spawn.Queue()
        procs = [spawn.Process(target=_worker, args=(a, barrier, queue)) for a in args]
        for p in procs:
            p.start()
        results = [queue.get(timeout=600) for _ in procs]
        for p in procs:
            p.join()
        seconds = max(r[2] for r in results) - min(r[1] for r in results)
        issued = sum(r[0] for r in results)
        return {"issued": issued, "seconds": round(seconds, 2), "per_second": round(issued / seconds, 1),
                "client_cpu_ms_per_certificate": round(sum(r[3] for r in results) / issued * 1000, 2),
                "note": "two issuers (NJ-GC-ZJ, TZ-GC-ZJ), one process each, started together "
                        "after start-up; until the last one ends"}
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        shutil.rmtree(home, ignore_errors=True)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu(fn, n: int):
    """fn(n) and the CPU seconds of this process an item."""
    started = time.process_time()
    out = fn(n)
    return out, (time.process_time() - started) / n


def main() -> dict:
    (base_s, base_bytes), base_cpu = _cpu(naive_baseline, BASELINE_N)
    (render_s, sizes), render_cpu = _cpu(renderer_only, min(COUNT, 500))
    small = in_fresh_process(whole_issuance_sqlite, max(COUNT // 4, 50))
    full = in_fresh_process(whole_issuance_sqlite, COUNT)
    pg = two_workers_postgres(COUNT)
    figures = {
        "baseline_ms_per_certificate": round(base_s * 1000, 1),
        "baseline_certificates": BASELINE_N,
        "baseline_bytes": base_bytes,
        "render_only_ms_per_certificate": round(render_s * 1000, 2),
        "render_only_vs_baseline": round(base_s / render_s, 1),
        "issuance_sqlite_1_process_per_second": round(full["per_second"], 1),
        "issuance_sqlite_ms_per_certificate": round(1000 / full["per_second"], 2),
        "issuance_vs_baseline": round(base_s * full["per_second"], 1),
        "cpu": {"baseline_ms_per_certificate": round(base_cpu * 1000, 1),
                "render_only_ms_per_certificate": round(render_cpu * 1000, 2),
                "issuance_sqlite_ms_per_certificate": round(full["cpu_seconds"] / COUNT * 1000, 2),
                "render_only_vs_baseline": round(base_cpu / render_cpu, 1),
                "issuance_sqlite_vs_baseline": round(base_cpu / (full["cpu_seconds"] / COUNT), 1)},
        "issuance_postgres_2_processes": pg,
        "certificates": COUNT,
        "pdf_bytes": {"mean": round(statistics.mean(full["sizes"])), "min": min(full["sizes"]),
                      "max": max(full["sizes"]), "target_max": 60 * 1024},
        "peak_rss_mb": {f"batch_of_{max(COUNT // 4, 50)}": round(small["peak_rss_mb"], 1),
                        f"batch_of_{COUNT}": round(full["peak_rss_mb"], 1)},
    }
    if isinstance(pg, dict) and "per_second" in pg:
        figures["issuance_postgres_2_processes_vs_baseline"] = round(base_s * pg["per_second"], 1)
    return figures


if __name__ == "__main__":
    import json
    print(json.dumps(main(), ensure_ascii=False, indent=2))
