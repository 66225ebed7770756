"""The data-quality suites over a large registry, against a bare SQL count over the
same tables measured in the same run; and `zhicheng export` of its certificates.

A synthetic registry is written straight into the database: BENCH_QUALITY_CERTIFICATES
certificates (default 100,000; the issue's target is 10,000,000) over
BENCH_QUALITY_APPLICATIONS applications (default 10,000; target 1,000,000), with their
applicants, employers, revisions, decisions, materials and outbox. On PostgreSQL the
server makes the rows (INSERT ... SELECT over generate_series, the same rows as the
Python generators that fill SQLite); then ANALYZE. The workspace holds 1,000 files that
documents and materials point to (the existence check runs per row). Every suite then
runs in a fresh process: seconds, ratio to the baseline, rows per second and peak RSS.
Memory is flat when the peak of the full run is close to the peak of a run over a
tenth of the rows (BENCH_QUALITY_TENTH=0 skips it). Each export format of
BENCH_QUALITY_EXPORTS (default csv,parquet) runs in a fresh process too: seconds, peak
RSS, against a streamed bare fetch of the same rows.

BENCH_QUALITY_ENGINES (default sqlite,postgresql) names the engines; PostgreSQL is
ZHICHENG_TEST_POSTGRES_URL, skipped when unreachable. For the issue's size:

    BENCH_QUALITY_ENGINES=postgresql BENCH_QUALITY_CERTIFICATES=10000000 \
    BENCH_QUALITY_APPLICATIONS=1000000 python -m bench quality
"""
from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import resource
import shutil
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

CERTIFICATES = int(os.environ.get("BENCH_QUALITY_CERTIFICATES", "100000"))
APPLICATIONS = int(os.environ.get("BENCH_QUALITY_APPLICATIONS", "10000"))
PG_URL = os.environ.get("ZHICHENG_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# where to run (BENCH_QUALITY_ENGINES=postgresql for the issue's 10-million size: SQLite
# seeds row by row from Python) and whether to run a tenth of the rows too (flat memory)
ENGINES = tuple(e for e in os.environ.get("BENCH_QUALITY_ENGINES", "sqlite,postgresql").split(",") if e)
TENTH = os.environ.get("BENCH_QUALITY_TENTH", "1") != "0"
# `zhicheng export certificates` measured in these formats (empty: none); xlsx holds 1,048,575 rows
EXPORTS = tuple(f for f in os.environ.get("BENCH_QUALITY_EXPORTS", "csv,parquet").split(",") if f)
AS_OF = dt.datetime(2026, 12, 28, 20, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
FILES = 1000
BATCH = 20_000
# Jiangsu's 13 cities: 10 million certificates stay within a 6-digit serial per issuer
ISSUERS = tuple(f"32{k:02d}00" for k in range(1, 14))
TABLES = ("applications", "applicants", "employers", "application_revisions", "decisions",
          "materials", "ballots", "certificates", "serial_counters", "outbox")


def _app(home: Path, url: str, schema: str | None):
    from zhicheng.bootstrap import build_app
    from zhicheng.clock import FixedClock
    from zhicheng.db.engine import make_engine
    from zhicheng.settings import Settings
    engine = make_engine(url, schema=schema)
    return build_app(settings=Settings(home=home, database_url=url, database_schema=schema),
                     clock=FixedClock(AS_OF), engine=engine)


def seed(home: str, url: str, schema: str | None, certificates: int, applications: int) -> None:
    """The registry, written in batches (the generator keeps nothing but a batch)."""
    from zhicheng.db.engine import unit_of_work
    from zhicheng.reference import sync_reference_data
    from zhicheng.schema import Base
    app = _app(Path(home), url, schema)
    Base.metadata.create_all(app.engine)
    with unit_of_work(app.sessions) as s:
        sync_reference_data(session=s, config=app.config)
    _files(Path(home))
    t = Base.metadata.tables
    with app.engine.begin() as conn:
        conn.execute(t["employers"].insert(), _employers())
        if app.engine.dialect.name == "postgresql":
            _seed_postgres(conn, app.config, certificates, applications)
            conn.execute(t["serial_counters"].insert(), _counters(certificates))
            for table in TABLES:
                conn.exec_driver_sql(f"ANALYZE {table}")
            app.engine.dispose()
            return
        for table, rows in (("applicants", _applicants(applications)),
                            ("applications", _applications(app.config, applications)),
                            ("application_revisions", _revisions(applications)),
                            ("decisions", _decisions(app.config, applications)),
                            ("materials", _materials(applications)),
                            ("outbox", _outbox(applications)),
                            ("certificates", _certificates(certificates, applications))):
            _insert(conn, t[table], rows)
        conn.execute(t["serial_counters"].insert(), _counters(certificates))
    app.engine.dispose()


def _check_char(body: str) -> str:
    """SQL: the ISO 7064 MOD 11-2 check character of a text of 17 digits (the weights of
    zhicheng.domain.checksums)."""
    terms = " + ".join(f"CAST(substr({body}, {i + 1}, 1) AS INTEGER) * {2 ** (17 - i) % 11}" for i in range(17))
    return f"substr('10X98765432', ({terms}) % 11 + 1, 1)"


def _seed_postgres(conn, config, certificates: int, applications: int) -> None:
    """The same rows as the generators below, made by the server (INSERT ... SELECT over
    generate_series): ten million certificates in minutes, not an hour of round trips."""
    import json

    from sqlalchemy import text
    c, chain = _chain(config)
    last, before = len(chain) - 1, len(chain) - 2
    n, sql = applications, conn.execute
    person = ("'320102' || to_char(DATE '1970-01-01' + (i - 1) / 500, 'YYYYMMDD')"
              " || lpad(((i - 1) % 500 * 2 + (i - 1) % 2)::text, 3, '0')")
    sql(text(f"INSERT INTO applicants (id, id_number, name, gender) "
             f"SELECT i, body || {_check_char('body')}, '申报人' || (i - 1), "
             f"CASE WHEN (i - 1) % 2 = 1 THEN '男' ELSE '女' END "
             f"FROM (SELECT i, {person} AS body FROM generate_series(1, :n) i) s"), {"n": n})
    sql(text("INSERT INTO applications (id, submission_id, current_revision, applicant_id, employer_id, "
             "employer_name, committee_id, track, batch_year, level, series, specialty, qualification_name, "
             "reporting_level, region_code, status, chain, stage_index, stage, holds_year_slot, submitted_at) "
             "SELECT i, 'B-' || lpad((i - 1)::text, 7, '0'), 1, i, (i - 1) % 1000 + 1, '单位' || ((i - 1) % 1000), "
             ":committee, '评审', 2026, '中级', :series, :specialty, '工程师', '市级', '320102', 'issued', "
             "CAST(:chain AS JSON), :last, :stage, FALSE, :submitted FROM generate_series(1, :n) i"),
        {"n": n, "committee": c.id, "series": c.series, "specialty": c.specialties[0],
         "chain": json.dumps(chain, ensure_ascii=False), "last": last, "stage": chain[-1],
         "submitted": AS_OF - dt.timedelta(days=200)})
    sql(text("INSERT INTO application_revisions (application_id, revision, payload, payload_sha256, valid, "
             "received_at) SELECT i, 1, CAST('{\"revision\": 1}' AS JSON), repeat('0', 64), TRUE, :at "
             "FROM generate_series(1, :n) i"), {"n": n, "at": AS_OF - dt.timedelta(days=200)})
    for k in (before, last):
        when = AS_OF - dt.timedelta(days=10 - k)
        sql(text("INSERT INTO decisions (application_id, revision, stage_index, stage, action, actor, office, "
                 "decided_at, recorded_at) SELECT i, 1, :k, :stage, 'approve', 'system', 'bench', :at, :at "
                 "FROM generate_series(1, :n) i"), {"n": n, "k": k, "stage": chain[k], "at": when})
    for k in range(2):
        sql(text(f"INSERT INTO materials (application_id, revision, material_id, type, file_name, size, "
                 f"declared_size, sha256, storage_path) SELECT i, 1, 'M{k}', 'consent', 'm.pdf', 1000, 1000, "
                 f"repeat('a', 64), 'store/' || lpad((((i - 1) * 2 + {k}) % {FILES})::text, 4, '0') || '.pdf' "
                 f"FROM generate_series(1, :n) i"), {"n": n})
    sql(text("INSERT INTO outbox (target, kind, dedupe_key, payload, status, attempts, created_at) "
             "SELECT 'province', 'certificate', 'b-' || (i - 1), CAST('{}' AS JSON), 'sent', 1, :at "
             "FROM generate_series(1, :n) i"), {"n": n, "at": AS_OF - dt.timedelta(days=1)})
    issuers = "ARRAY[" + ", ".join(f"'{x}'" for x in ISSUERS) + "]"
    number = f"issuer || '20263' || lpad((i / {len(ISSUERS)} + 1)::text, 6, '0')"
    sql(text(f"INSERT INTO certificates (certificate_no, version, application_id, holder_name, holder_id_number, "
             f"qualification_name, series, specialty, level, obtained_by, approved_on, issued_on, issuer, "
             f"issuer_region_code, filed_with_province, status, verification_code, document_path, "
             f"document_sha256, key_id) "
             f"SELECT body || {_check_char('body')}, i / :apps + 1, i % :apps + 1, '持证人', "
             f"'H' || lpad(i::text, 17, '0'), "
             f"'工程师', '工程', "
             f"'电气工程', '中级', '评审', DATE '2026-11-20', DATE '2026-12-01', '发证机关', issuer, FALSE, 'valid', "
             f"'K7QM-2D9X-HC4T', 'store/' || lpad((i % {FILES})::text, 4, '0') || '.pdf', repeat('b', 64), "
             f"issuer || '-bench' "
             f"FROM (SELECT i, issuer, {number} AS body FROM (SELECT i, ({issuers})[i % {len(ISSUERS)} + 1] AS issuer "
             f"FROM generate_series(0, :certs - 1) i) g) s"), {"certs": certificates, "apps": applications})


def _insert(conn, table, rows) -> None:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            conn.execute(table.insert(), batch)
            batch = []
    if batch:
        conn.execute(table.insert(), batch)


def _files(home: Path) -> None:
    folder = home / "store"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(FILES):
        (folder / f"{i:04d}.pdf").write_bytes(b"%PDF-1.7 bench\n")


def _employers():
    from zhicheng.domain.identity import make_uscc
    return [{"id": i + 1, "uscc": make_uscc("91", "320102", f"{i:08d}"), "name": f"单位{i}",
             "region_code": "320102"} for i in range(1000)]


def _applicants(n: int):
    from zhicheng.domain.identity import make_id_number
    for i in range(n):
        yield {"id": i + 1, "id_number": make_id_number("320102", dt.date(1970, 1, 1) + dt.timedelta(days=i // 500),
                                                        i, "男" if i % 2 else "女"),
               "name": f"申报人{i}", "gender": "男" if i % 2 else "女"}


def _chain(config):
    c = config.committees["NJ-GC-ZJ"]
    return c, list(config.chains.for_application(track="评审", tier=c.tier, reporting="市级",
                                                 delegated=c.delegated))


def _applications(config, n: int):
    c, chain = _chain(config)
    for i in range(n):
        yield {"id": i + 1, "submission_id": f"B-{i:07d}", "current_revision": 1, "applicant_id": i + 1,
               "employer_id": i % 1000 + 1, "employer_name": f"单位{i % 1000}", "committee_id": c.id,
               "track": "评审", "batch_year": 2026,
               "level": "中级", "series": c.series, "specialty": c.specialties[0],
               "qualification_name": "工程师", "reporting_level": "市级", "region_code": "320102",
               "status": "issued", "chain": chain, "stage_index": len(chain) - 1, "stage": chain[-1],
               "holds_year_slot": False, "submitted_at": AS_OF - dt.timedelta(days=200)}


def _revisions(n: int):
    for i in range(n):
        yield {"application_id": i + 1, "revision": 1, "payload": {"revision": 1},
               "payload_sha256": "0" * 64, "valid": True, "received_at": AS_OF - dt.timedelta(days=200)}


def _decisions(config, n: int):
    _, chain = _chain(config)
    for i in range(n):
        for k in (len(chain) - 2, len(chain) - 1):
            when = AS_OF - dt.timedelta(days=10 - k)
            yield {"application_id": i + 1, "revision": 1, "stage_index": k, "stage": chain[k],
                   "action": "approve", "actor": "system", "office": "bench", "decided_at": when,
                   "recorded_at": when}


def _materials(n: int):
    for i in range(n):
        for k in range(2):
            yield {"application_id": i + 1, "revision": 1, "material_id": f"M{k}", "type": "consent",
                   "file_name": "m.pdf", "size": 1000, "declared_size": 1000, "sha256": "a" * 64,
                   "storage_path": f"store/{(i * 2 + k) % FILES:04d}.pdf"}


def _outbox(n: int):
    for i in range(n):
        yield {"target": "province", "kind": "certificate", "dedupe_key": f"b-{i}", "payload": {},
               "status": "sent", "attempts": 1, "created_at": AS_OF - dt.timedelta(days=1)}


def _certificates(n: int, applications: int):
    from zhicheng.domain.certificate_numbers import make_number
    for i in range(n):
        issuer, serial = ISSUERS[i % len(ISSUERS)], i // len(ISSUERS) + 1
        yield {"certificate_no": make_number(issuer, 2026, 3, serial), "version": i // applications + 1,
               "application_id": i % applications + 1, "holder_name": "持证人", "holder_id_number": f"H{i:017d}",
               "qualification_name": "工程师", "series": "工程", "specialty": "电气工程", "level": "中级",
               "obtained_by": "评审", "approved_on": dt.date(2026, 11, 20), "issued_on": dt.date(2026, 12, 1),
               "issuer": "发证机关", "issuer_region_code": issuer, "status": "valid",
               "verification_code": "K7QM-2D9X-HC4T", "document_path": f"store/{i % FILES:04d}.pdf",
               "document_sha256": "b" * 64, "key_id": f"{issuer}-bench"}


def _counters(n: int):
    per = [len(range(k, n, len(ISSUERS))) for k in range(len(ISSUERS))]
    return [{"issuer_region_code": issuer, "year": 2026, "level_digit": 3, "next_serial": count + 1}
            for issuer, count in zip(ISSUERS, per, strict=True)]


def measure(home: str, url: str, schema: str | None) -> dict:
    """In a fresh process: the baseline count, then every suite; seconds and peak RSS."""
    from sqlalchemy import text
    app = _app(Path(home), url, schema)
    started = time.perf_counter()
    with app.engine.connect() as conn:
        rows = sum(conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in TABLES)
    baseline = time.perf_counter() - started
    rss_before = _rss_mb()
    from zhicheng.quality import service as quality
    started = time.perf_counter()
    from zhicheng.expectations import project  # noqa: F401  (great-expectations' import)
    gx_import = time.perf_counter() - started
    started = time.perf_counter()
    run = quality.plan(app=app, as_of=AS_OF)
    quality.prepare(app=app, run=run)  # the GX project (issue 24)
    prepared = time.perf_counter() - started
    summaries = [quality.validate_suite(app=app, run=run, name=n) for n in run["suites"]]
    report = quality.publish(app=app, run=run, summaries=summaries)
    seconds = time.perf_counter() - started
    failed = quality.failures(report)
    figures = {"rows": rows, "baseline_seconds": round(baseline, 3), "seconds": round(seconds, 2),
               "project_sync_seconds": round(prepared, 2), "gx_import_seconds": round(gx_import, 2),
               "rows_per_second": round(rows / seconds), "vs_baseline": round(seconds / baseline, 1),
               "peak_rss_mb": round(_rss_mb(), 1), "rss_before_suites_mb": round(rss_before, 1),
               "failed_checks": [f"{f['suite']}.{f['check']}" for f in failed]}
    app.engine.dispose()
    return figures


def measure_export(home: str, url: str, schema: str | None, fmt: str) -> dict:
    """In a fresh process: `zhicheng export certificates` to `fmt`, streamed, against
    fetching the same rows bare (streamed, nothing kept); seconds and peak RSS (flat
    when close to the RSS before, and to a tenth of the rows' peak)."""
    import pandas  # noqa: F401  (imports not counted in the peak's growth)
    import pyarrow  # noqa: F401

    from zhicheng import datasets
    from zhicheng.datasets import export
    app = _app(Path(home), url, schema)
    started = time.perf_counter()
    with app.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=50_000).execute(datasets.query("certificates"))
        n = sum(len(part) for part in result.partitions(50_000))
    bare = time.perf_counter() - started
    rss_before = _rss_mb()
    started = time.perf_counter()
    done = export.export(app=app, name="certificates", fmt=fmt)
    took = time.perf_counter() - started
    app.engine.dispose()
    return {"rows": n, "seconds": round(took, 2), "rows_per_second": round(n / took),
            "bare_fetch_seconds": round(bare, 2), "vs_bare_fetch": round(took / bare, 1),
            "rss_before_mb": round(rss_before, 1), "peak_rss_mb": round(_rss_mb(), 1),
            "file_mb": round(Path(done["path"]).stat().st_size / 2**20, 1)}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _in_child(fn, *args):
    """fn(*args) in a fresh process, so its peak RSS is its own."""
    with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


def run_on(url: str, certificates: int, applications: int, *, schema: str | None = None) -> dict:
    home = Path(tempfile.mkdtemp(prefix="bench-quality-"))
    if url.startswith("sqlite"):
        url = f"sqlite:///{home / 'bench.db'}"
    try:
        started = time.perf_counter()
        _in_child(seed, str(home), url, schema, certificates, applications)
        figures = {"certificates": certificates, "applications": applications,
                   "seed_seconds": round(time.perf_counter() - started, 1)}
        figures.update(_in_child(measure, str(home), url, schema))
        if EXPORTS:
            figures["export_certificates"] = {fmt: _in_child(measure_export, str(home), url, schema, fmt)
                                              for fmt in EXPORTS}
        return figures
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _postgres(url: str, certificates: int, applications: int) -> dict:
    from sqlalchemy import create_engine, text
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as c:
            c.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # no PostgreSQL here: report, do not fail
        return {"skipped": f"PostgreSQL not reachable ({type(exc).__name__})"}
    try:
        return run_on(url, certificates, applications, schema=schema)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> dict:
    out: dict = {"certificates": CERTIFICATES, "applications": APPLICATIONS,
                 "target": "every suite under 300 s at 10,000,000 certificates and 1,000,000 "
                           "applications on PostgreSQL, memory flat"}
    for engine in ENGINES:
        run = run_on if engine == "sqlite" else _postgres
        full = run("sqlite" if engine == "sqlite" else PG_URL, CERTIFICATES, APPLICATIONS)
        out[engine] = full
        if TENTH and "skipped" not in full:
            tenth = run("sqlite" if engine == "sqlite" else PG_URL,
                        max(CERTIFICATES // 10, 1000), max(APPLICATIONS // 10, 100))
            out[f"{engine}_tenth"] = tenth
            out[f"{engine}_peak_rss_growth_mb_tenth_to_full"] = round(full["peak_rss_mb"] - tenth["peak_rss_mb"], 1)
    return out


if __name__ == "__main__":
    import json
    print(json.dumps(main(), ensure_ascii=False, indent=2))
