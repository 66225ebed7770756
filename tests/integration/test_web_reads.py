"""The verification's reads on both databases: look-ups that arrive together (one
statement on PostgreSQL) each get their own row, whatever else is in the statement;
a failing statement fails every look-up in it and the next ones still work; and a
revocation or a replacement shows on the very next read (nothing kept between them)."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, text

from web_support import make_registry
from zhicheng.db.engine import unit_of_work
from zhicheng.demo.issuance_samples import add_approved
from zhicheng.issuance import service as issuance
from zhicheng.issuance.models import Certificate
from zhicheng.web.public import BY_NUMBER, BY_NUMBERS
from zhicheng.web.reads import Reader


def _reader(app) -> Reader:
    return Reader(app.engine, schema=app.settings.database_schema)


async def _by_number(reader: Reader, number: str):
    return await reader.first_by(BY_NUMBER, "no", number, many=BY_NUMBERS, column="certificate_no")


def test_lookups_that_arrive_together_each_get_their_own_row(app):
    reg = make_registry(app)
    numbers = [reg.nanjing[2].certificate_no, reg.revoked.certificate_no, "320102202600000019",
               reg.taizhou[0].certificate_no, reg.nanjing[2].certificate_no, reg.replaced.certificate_no,
               reg.taizhou[1].certificate_no]

    async def run():
        reader = _reader(app)
        try:
            together = await asyncio.gather(*(_by_number(reader, n) for n in numbers))
            alone = [await reader.first(BY_NUMBER, {"no": n}) for n in numbers]
            return together, alone
        finally:
            await reader.close()

    together, alone = asyncio.run(run())
    assert together == alone
    assert [r.certificate_no if r else None for r in together] == [
        n if n != "320102202600000019" else None for n in numbers]
    assert together[1].status == "revoked" and together[0].status == "valid"
    assert together[0].verification_code == reg.nanjing[2].verification_code


def test_a_lookup_that_goes_away_leaves_the_others_theirs(app):
    if app.engine.dialect.name != "postgresql":
        pytest.skip("on SQLite a look-up is read at once, on the loop's thread: nothing waits")
    reg = make_registry(app)

    async def run():
        reader = _reader(app)
        try:
            tasks = [asyncio.ensure_future(_by_number(reader, c.certificate_no)) for c in reg.taizhou]
            await asyncio.sleep(0)  # both are waiting for their statement
            tasks[0].cancel()
            return await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            await reader.close()

    gone, kept = asyncio.run(run())
    assert isinstance(gone, asyncio.CancelledError)
    assert kept.certificate_no == reg.taizhou[1].certificate_no


def test_a_failing_statement_fails_its_lookups_and_the_next_ones_work(app):
    reg = make_registry(app)
    broken = select(text("no_such_column")).select_from(Certificate.__table__).where(
        BY_NUMBERS.whereclause)  # the same parameter; a statement the database refuses

    async def run():
        reader = _reader(app)
        try:
            failed = await asyncio.gather(
                *(reader.first_by(BY_NUMBER.where(text("no_such_column = 1")), "no", c.certificate_no,
                                  many=broken, column="certificate_no") for c in reg.taizhou),
                return_exceptions=True)
            return failed, await _by_number(reader, reg.taizhou[0].certificate_no)
        finally:
            await reader.close()

    failed, after = asyncio.run(run())
    assert all(isinstance(f, Exception) and "no_such_column" in str(f) for f in failed), failed
    assert after.certificate_no == reg.taizhou[0].certificate_no


@pytest.mark.parametrize("change", ["revoked", "replaced"])
def test_a_change_shows_on_the_next_read(app, change):
    """The service keeps no answer between requests: a certificate revoked or replaced
    by another process (here: another connection) reads so at once."""
    reg = make_registry(app)
    cert = reg.taizhou[0]

    async def read_twice(between):
        reader = _reader(app)
        try:
            before = await _by_number(reader, cert.certificate_no)
            await asyncio.to_thread(between)
            return before, await _by_number(reader, cert.certificate_no)
        finally:
            await reader.close()

    def revoke():
        with unit_of_work(app.sessions) as s:
            issuance.revoke(session=s, certificate=s.get(Certificate, cert.id), reason="撤销", now=app.clock.now())

    def replace():
        with unit_of_work(app.sessions) as s:
            again = add_approved(session=s, config=app.config, count=1, start=70, committee_id="TZ-GC-ZJ",
                                 region_code="321202", track="换发", prior_certificate_no=cert.certificate_no)
        with unit_of_work(app.sessions) as s:
            issuance.issue_chunk(session=s, ctx=issuance.IssueContext.for_app(app), application_ids=again,
                                 now=app.clock.now())

    before, after = asyncio.run(read_twice(revoke if change == "revoked" else replace))
    assert before.status == "valid"
    assert after.status != "valid"
    if change == "revoked":
        assert after.status == "revoked" and after.revoked_at is not None
