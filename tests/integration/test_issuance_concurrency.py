"""Several workers at once: serials stay unique and gapless (PostgreSQL row locks), and
each application gets exactly one certificate (both engines: SQLite has one writer)."""
from __future__ import annotations

import random
import threading

import pytest
from sqlalchemy import select

from zhicheng.db.engine import unit_of_work
from zhicheng.demo.issuance_samples import add_approved
from zhicheng.domain.certificate_numbers import parse_number
from zhicheng.issuance import service as issuance
from zhicheng.issuance.models import Certificate, SerialCounter


@pytest.fixture
def pg_app(app):
    if app.engine.dialect.name != "postgresql":
        pytest.skip("row locks between workers are a PostgreSQL matter (SQLite has one writer)")
    return app


def run_threads(target, n=2):
    errors = []

    def guarded(i):
        try:
            target(i)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors


def test_concurrent_allocation_is_gapless_and_unique(pg_app):
    committed: list[int] = []
    lock = threading.Lock()

    def worker(seed):
        rnd = random.Random(seed)
        for _ in range(30):
            count = rnd.randint(1, 3)
            rollback = rnd.random() < 0.25
            try:
                with unit_of_work(pg_app.sessions) as s:
                    first = issuance.allocate_serials(session=s, region="320100", year=2026, level_digit=3, count=count)
                    if rollback:
                        raise RuntimeError("this transaction fails: its serials come back")
            except RuntimeError:
                continue
            with lock:
                committed.extend(range(first, first + count))
    run_threads(worker)
    assert sorted(committed) == list(range(1, len(committed) + 1))
    with pg_app.sessions() as s:
        assert s.scalar(select(SerialCounter.next_serial)) == len(committed) + 1


def test_two_workers_on_the_same_applications_issue_each_once(app):
    pg_app = app  # on SQLite too: its writers take turns instead of failing a chunk
    with unit_of_work(pg_app.sessions) as s:
        ids = add_approved(session=s, config=pg_app.config, count=24)
    issuance.IssueContext.for_app(pg_app).keystore.generate("320100", now=pg_app.clock.now())
    chunks = [ids[i:i + 6] for i in range(0, len(ids), 6)]

    def worker(i):
        ctx = issuance.IssueContext.for_app(pg_app)  # a worker of its own: own font, own keys cache
        for chunk in (chunks if i == 0 else list(reversed(chunks))):
            with unit_of_work(pg_app.sessions) as s:
                issuance.issue_chunk(session=s, ctx=ctx, application_ids=chunk, now=pg_app.clock.now())
    run_threads(worker)
    with pg_app.sessions() as s:
        certs = s.scalars(select(Certificate)).all()
    assert sorted(c.application_id for c in certs) == sorted(ids)
    assert sorted(parse_number(c.certificate_no).serial for c in certs) == list(range(1, 25))
    for c in certs:
        assert (pg_app.settings.home / c.document_path).exists()
