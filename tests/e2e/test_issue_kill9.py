"""kill -9 at many points of an issuance run, then a re-run: the registry is the same
as an unbroken run's (numbers, documents, records), with no gap, duplicate, orphan
file or certificate without its file."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, func, select

from sqlalchemy.orm import Session, sessionmaker

from zhicheng.config import get_config
from zhicheng.db.engine import make_engine, unit_of_work
from zhicheng.db.models import OutboxItem
from zhicheng.demo.issuance_samples import add_approved
from zhicheng.issuance.keys import KeyStore
from zhicheng.issuance.models import Certificate, SerialCounter
from zhicheng.issuance.verify import verify_document
from zhicheng.reference import sync_reference_data
from zhicheng.schema import Base

# The drill is 2,000 certificates: ISSUE_KILL9_COUNT=2000 runs it (about a minute);
# the default keeps the suite quick with the same kinds of crash.
COUNT = int(os.environ.get("ISSUE_KILL9_COUNT", "160"))
CHUNK = max(COUNT // 12, 10)
# A generous bound for one issuing process, growing with the run: the 2,000 drill on a
# shared, loaded machine took longer than a flat 300 s (a hang guard, not a timing test).
DRIVE_TIMEOUT = max(300, COUNT // 2)

# Runs in a child process: issue everything; when told, SIGKILL itself at the n-th
# number allocation, file write or pre-commit point (mid-chunk crashes of every kind).
DRIVER = r"""
import datetime as dt, os, signal, sys
from pathlib import Path
home, url, point, nth, grace = sys.argv[1:6]
from zhicheng.bootstrap import build_app
from zhicheng.clock import FixedClock
from zhicheng.db.engine import make_engine
from zhicheng.issuance import files as certificate_files, service as issuance
from zhicheng.settings import Settings
engine = make_engine(url)
app = build_app(settings=Settings(home=Path(home), database_url=url), engine=engine,
                clock=FixedClock(dt.datetime(2026, 12, 28, 20, 0)))
counter = {"n": 0}
def maybe_die(event):
    if event == point:
        counter["n"] += 1
        if counter["n"] == int(nth):
            os.kill(os.getpid(), signal.SIGKILL)
real_alloc, real_write = issuance.allocate_serials, certificate_files.write_atomic
def alloc(*a, **k):
    first = real_alloc(*a, **k); maybe_die("alloc"); return first
def write(*a, **k):
    real_write(*a, **k); maybe_die("write")
issuance.allocate_serials, certificate_files.write_atomic = alloc, write
issuance._before_commit = lambda session, result: maybe_die("commit")
ctx = issuance.IssueContext.for_app(app)
ctx.settings = ctx.settings.model_copy(update={"orphan_grace_minutes": float(grace)})
print(issuance.issue_batch(app=app, ctx=ctx, chunk_size=%(chunk)d))
""" % {"chunk": CHUNK}


def seed(url: str) -> None:
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    config = get_config()
    with unit_of_work(sessionmaker(engine)) as s:
        sync_reference_data(session=s, config=config)
        add_approved(session=s, config=config, count=COUNT // 2, committee_id="NJ-GC-ZJ")
        add_approved(session=s, config=config, count=COUNT // 2, start=5000, committee_id="TZ-GC-ZJ")
    engine.dispose()


def drive(home: Path, url: str, *args: str) -> int:
    env = {**os.environ, "ZHICHENG_HOME": str(home), "ZHICHENG_DATABASE_URL": url}
    proc = subprocess.run([sys.executable, "-c", DRIVER, str(home), url, *args], env=env,
                          capture_output=True, text=True, timeout=DRIVE_TIMEOUT)
    if proc.returncode not in (0, -9):
        raise AssertionError(proc.stderr[-3000:])
    return proc.returncode


def registry(home: Path, url: str):
    engine = create_engine(url)
    with engine.connect() as c:
        certs = c.execute(select(Certificate.application_id, Certificate.certificate_no,
                                 Certificate.document_sha256, Certificate.document_path,
                                 Certificate.merkle_proof.is_not(None))
                          .order_by(Certificate.application_id)).all()
        counters = c.execute(select(SerialCounter.issuer_region_code, SerialCounter.next_serial)
                             .order_by(SerialCounter.issuer_region_code)).all()
        outbox = c.execute(select(OutboxItem.target, func.count()).group_by(OutboxItem.target)
                           .order_by(OutboxItem.target)).all()
    engine.dispose()
    files = sorted(p.relative_to(home).as_posix() for p in (home / "certificates").rglob("*") if p.is_file())
    return [tuple(r) for r in certs], [tuple(r) for r in counters], [tuple(r) for r in outbox], files


def test_kill9_at_random_points_then_rerun_equals_an_unbroken_run(tmp_path):
    rnd = random.Random(8)
    homes = {k: tmp_path / k for k in ("unbroken", "killed")}
    urls = {k: f"sqlite:///{tmp_path / k}.db" for k in homes}
    for k in homes:
        seed(urls[k])
    # the same issuer keys on both sides, so the documents can be compared byte for byte
    ks = KeyStore.for_home(homes["unbroken"])
    for issuer in ("320100", "321200"):
        ks.generate(issuer, now=dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc))
    shutil.copytree(homes["unbroken"] / "keys", homes["killed"] / "keys")
    assert drive(homes["unbroken"], urls["unbroken"], "-", "0", "0") == 0
    kills = 0
    for point in ("alloc", "write", "commit", "write"):
        nth = rnd.randint(1, 2 * CHUNK if point == "write" else 2)
        kills += drive(homes["killed"], urls["killed"], point, str(nth), "0") == -9
    assert kills >= 3  # the drills did die mid-run
    assert drive(homes["killed"], urls["killed"], "-", "0", "0") == 0
    want, got = registry(homes["unbroken"], urls["unbroken"]), registry(homes["killed"], urls["killed"])
    certs, counters, outbox, files = got
    assert len(certs) == COUNT
    # the same numbers for the same applications (documents are equal in content, not in
    # bytes: the embedded font subset depends on which chunks a process rendered before)
    assert [c[:2] for c in certs] == [c[:2] for c in want[0]]
    assert counters == want[1] and outbox == want[2]
    assert files == sorted(c[3] for c in certs) == want[3]      # no orphan, none missing
    keys = KeyStore.for_home(homes["killed"])
    engine = create_engine(urls["killed"])
    with Session(engine) as session:
        for _, no, digest, path, has_proof in certs:
            data = (homes["killed"] / path).read_bytes()
            assert hashlib.sha256(data).hexdigest() == digest and has_proof
            verdict = verify_document(session=session, data=data, keys=keys)
            assert verdict.ok and verdict.certificate_no == no, verdict
    engine.dispose()
