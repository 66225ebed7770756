"""Done criterion of intake: kill -9 in the middle (a file half written, a page's
transaction half done, between pages), then a re-run, ends in the same database and
the same files as an unbroken run, against the hall stand-in serving a generated year.

Intake runs in a child process exactly as the flow's steps do (the lock, the sweep of
half-written files, page after page), without Prefect, so SIGKILL hits intake itself.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker

from zhicheng.config import get_config
from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import (Application, ApplicationRevision, Finding, Material, OutboxItem,
                                SyncCursor)
from zhicheng.reference import sync_reference_data
from zhicheng.schema import Base
from zhicheng.standins.generator import generate

pytestmark = pytest.mark.slow
PAGE = 7

# point: "write" (SIGKILL with the nth file half written under its temporary name),
# "publish" (at the nth batch of files written whole under their temporary names,
# before they are synced and renamed into place),
# "fetching" (SIGKILL while the download workers fetch the nth page's files: one has
# finished its share, the other may be mid-file), "store" (at the nth table insert of
# the run: a page's transaction with its applicants, employers and applications
# written and its revisions, materials or findings not yet), "page" (after the nth committed page), "-" (no kill). The
# files are fetched by worker processes as the flow fetches them, except at "write" and
# "publish", which kill the process that writes and so fetch in this one.
DRIVER = r"""
import os, signal, sys
from zhicheng.bootstrap import build_app
from zhicheng.connectors.hall import HallClient
from concurrent.futures import FIRST_COMPLETED, wait
from zhicheng import worker_pools
from zhicheng.intake import files, service as intake, storing
from zhicheng.intake.downloads import Downloader
from zhicheng.locks import exclusive
from zhicheng.private_files import TMP_SUFFIX
point, nth = sys.argv[1], int(sys.argv[2])
count = {"n": 0}
def reached(event):
    if event == point:
        count["n"] += 1
        return count["n"] == nth
    return False
real_write, real_publish, real_store = files.write_unsynced, files.publish_durably, storing.insert_rows
def write(path, data):
    if reached("write"):
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_name(f"{path.name}.{os.getpid()}{TMP_SUFFIX}"), "wb") as fh:
            fh.write(data[: len(data) // 2]); fh.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    return real_write(path, data)
def publish(root, moves):
    if reached("publish"):
        os.kill(os.getpid(), signal.SIGKILL)
    real_publish(root, moves)
def store(**kw):
    if reached("store"):
        os.kill(os.getpid(), signal.SIGKILL)
    return real_store(**kw)
def run(key, processes, initializer, initargs, fn, parts):
    if reached("fetching"):
        pool = worker_pools.pool(key, processes, initializer, initargs)
        futures = [pool.submit(fn, part) for part in parts]
        wait(futures, return_when=FIRST_COMPLETED)
        os.kill(os.getpid(), signal.SIGKILL)
    return real_run(key, processes, initializer, initargs, fn, parts)
files.write_unsynced, files.publish_durably, storing.insert_rows = write, publish, store
real_run, worker_pools.run = worker_pools.run, run
app = build_app()
with exclusive(app.engine, "intake", now=app.clock.now()):
    intake.remove_partial_files(app.settings.home)
    with HallClient.from_settings(app.settings, app.config) as hall:
        here = point in ("write", "publish")
        fetch = None if here else Downloader(hall, app.settings.home, processes=2, in_flight=2).fetch
        while True:
            got = intake.pull_page(sessions=app.sessions, hall=hall, config=app.config, fetch=fetch,
                                   files_root=app.settings.home, now=app.clock.now(), limit=%(page)d)
            if reached("page"):
                os.kill(os.getpid(), signal.SIGKILL)
            if got.next_cursor is None:
                break
""" % {"page": PAGE}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    root = tmp_path_factory.mktemp("intake-kill9") / "year"
    return root, generate(root, applications=30, seed=23, fault_rate=0.5)


@pytest.fixture
def year_dir(generated):
    return generated[0]


def drive(home: Path, url: str, hall, credentials, point: str = "-", nth: int = 0) -> int:
    app_id, secret = credentials
    env = {**os.environ, "ZHICHENG_HOME": str(home), "ZHICHENG_DATABASE_URL": url,
           "ZHICHENG_HALL_URL": hall.url, "ZHICHENG_HALL_APP_ID": app_id, "ZHICHENG_HALL_APP_SECRET": secret}
    proc = subprocess.run([sys.executable, "-c", DRIVER, point, str(nth)], env=env, capture_output=True,
                          text=True, timeout=300)
    if proc.returncode not in (0, -9):
        raise AssertionError(proc.stderr[-3000:])
    return proc.returncode


def fresh(url: str) -> None:
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    with unit_of_work(sessionmaker(engine)) as s:
        sync_reference_data(session=s, config=get_config())
    engine.dispose()


def everything(home: Path, url: str):
    """What intake leaves, without times and ids: the database and every file."""
    engine = create_engine(url)
    with sessionmaker(engine)() as s:
        ids = {a.id: a.submission_id for a in s.scalars(select(Application))}
        apps = sorted((a.submission_id, a.current_revision, a.status, a.track) for a in s.scalars(select(Application)))
        revisions = sorted((ids[r.application_id], r.revision, r.payload_sha256, r.valid)
                           for r in s.scalars(select(ApplicationRevision)))
        materials = sorted((ids[m.application_id], m.revision, m.material_id, m.sha256 or "", m.storage_path or "")
                           for m in s.scalars(select(Material)))
        findings = sorted((ids[f.application_id], f.revision, f.code, f.field or "", f.material_id or "")
                          for f in s.scalars(select(Finding)))
        outbox = sorted((o.dedupe_key, json.dumps(o.payload, sort_keys=True)) for o in s.scalars(select(OutboxItem)))
        cursors = sorted((c.name, c.cursor) for c in s.scalars(select(SyncCursor)))
    engine.dispose()
    files = sorted((p.relative_to(home).as_posix(), hashlib.sha256(p.read_bytes()).hexdigest())
                   for p in (home / "materials").rglob("*") if p.is_file())
    return {"applications": apps, "revisions": revisions, "materials": materials, "findings": findings,
            "outbox": outbox, "cursors": cursors, "files": files}


def test_kill9_mid_intake_then_rerun_equals_an_unbroken_run(tmp_path, year_dir, hall, standin_credentials):
    homes = {k: tmp_path / k for k in ("unbroken", "killed")}
    urls = {k: f"sqlite:///{tmp_path / k}.db" for k in homes}
    for k in homes:
        fresh(urls[k])
    assert drive(homes["unbroken"], urls["unbroken"], hall, standin_credentials) == 0
    want = everything(homes["unbroken"], urls["unbroken"])
    assert len(want["applications"]) == 30 and want["files"]
    kills = [drive(homes["killed"], urls["killed"], hall, standin_credentials, point, nth)
             for point, nth in (("write", 5), ("store", 4), ("page", 1), ("fetching", 1), ("write", 9),
                                ("store", 2), ("publish", 1), ("fetching", 1))]
    assert kills.count(-9) == len(kills)               # every drill died in the middle
    partial = everything(homes["killed"], urls["killed"])
    assert 0 < len(partial["applications"]) < 30        # ... with the run unfinished
    assert drive(homes["killed"], urls["killed"], hall, standin_credentials) == 0
    got = everything(homes["killed"], urls["killed"])
    assert got == want
    assert not list((homes["killed"] / "materials").rglob("*.tmp"))
