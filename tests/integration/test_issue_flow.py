"""The `issue` flow: chunks, re-runs and a crash between chunks (both engines)."""
from __future__ import annotations

from collections import defaultdict

import pytest
from prefect.artifacts import Artifact
from sqlalchemy import select

from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import Application, OutboxItem
from zhicheng.demo.issuance_samples import add_approved
from zhicheng.domain.certificate_numbers import parse_number
from zhicheng.issuance import service as issuance
from zhicheng.issuance.models import Certificate

AS_OF = "2026-12-28T20:00:00+08:00"


@pytest.fixture
def small_chunks(app, chunk_sizes):
    chunk_sizes(issuance=4)
    return 4


def registry(app):
    with app.sessions() as s:
        rows = s.execute(select(Certificate.application_id, Certificate.certificate_no,
                                Certificate.document_sha256).order_by(Certificate.application_id))
        return [tuple(r) for r in rows]


def test_flow_issues_everything_once_even_after_a_crash(app, prefect_harness, small_chunks,
                                                         monkeypatch):
    from zhicheng.flows.issuance import issue
    with unit_of_work(app.sessions) as s:
        ids = add_approved(session=s, config=app.config, count=10)
        add_approved(session=s, config=app.config, count=1, start=500, batch_year=2025)  # other year
    real = issuance.issue_chunk
    calls = []

    def dies_on_second_chunk(session, **kw):
        calls.append(1)
        if len(calls) == 2:
            raise SystemError("worker killed between chunks")
        return real(session=session, **kw)
    monkeypatch.setattr(issuance, "issue_chunk", dies_on_second_chunk)
    with pytest.raises(SystemError, match="worker killed"):
        issue(batch_year=2026, as_of=AS_OF)
    partial = registry(app)
    assert len(partial) == 4  # the first chunk committed, the second left nothing behind
    monkeypatch.setattr(issuance, "issue_chunk", real)
    summary = issue(batch_year=2026, as_of=AS_OF)
    assert Artifact.get("issue-progress").data == 100.0
    assert summary["issued"] == 6 and len(summary["runs"]) == 2 and not summary["problems"]
    again = issue(batch_year=2026, as_of=AS_OF)
    assert again["eligible"] == 0 and again["issued"] == 0
    final = registry(app)
    assert final[:4] == partial
    # the same registry as an unbroken run: serials follow application order, no gap
    assert [a for a, _, _ in final] == ids
    assert [parse_number(no).serial for _, no, _ in final] == list(range(1, 11))
    with app.sessions() as s:
        statuses = s.scalars(select(Application.status).where(Application.id.in_(ids))).all()
        province = s.scalars(select(OutboxItem.dedupe_key).where(OutboxItem.target == "province")).all()
    assert set(statuses) == {"issued"} and len(province) == 10
    assert all(no.startswith("3201002026") for _, no, _ in final)  # issued in 2026 (as_of)



# Issued on 28 December 2026, the next stage's deadline falls in 2027, which the
# calendar does not cover yet: one note for the run, not one warning a certificate.
def test_a_calendar_year_missing_is_said_once_a_run(app, no_prefect_api):
    import logging.handlers

    from zhicheng.flows.issuance import issue
    from zhicheng.runtime import run_flow
    with unit_of_work(app.sessions) as s:
        add_approved(session=s, config=app.config, count=6)
    lines = logging.handlers.BufferingHandler(capacity=10_000)
    logger = logging.getLogger("zhicheng")      # not caplog: Prefect's logging set-up replaces the root's handlers
    logger.addHandler(lines)
    level, logger.level = logger.level, logging.INFO
    try:
        summary = run_flow(issue, batch_year=2026, as_of=AS_OF)
    finally:
        logger.removeHandler(lines)
        logger.setLevel(level)
    assert summary["issued"] == 6
    (note,) = summary["notes"]
    assert note.startswith("工作日历缺少 2027 年的数据") and "config/calendar/2027.yaml" in note
    assert [r.getMessage() for r in lines.buffer if "2027" in r.getMessage()] == [note]


def test_the_missing_calendar_year_is_in_the_runs_artifact(app, prefect_harness):
    from zhicheng.flows.issuance import issue
    with unit_of_work(app.sessions) as s:
        add_approved(session=s, config=app.config, count=2)
    (note,) = issue(batch_year=2026, as_of=AS_OF)["notes"]
    assert Artifact.get("issue").description.endswith("；" + note)


def test_runs_split_by_issuer_leave_the_registry_one_run_leaves(app, prefect_harness, small_chunks):
    """The year-end on a work pool issues with one run an issuer (flows.issuance.
    shared_by_issuer), in any order: each issuer's serials still follow application
    order without a gap, as one run numbers them; an application no issuer is
    configured for is its own run's problem, and the merged summary counts them all."""
    from zhicheng.flows.issuance import issue, merged
    with unit_of_work(app.sessions) as s:
        province = add_approved(session=s, config=app.config, count=3, committee_id="JS-GC-DQ-GJ")
        city = add_approved(session=s, config=app.config, count=3, start=100)   # NJ-GC-ZJ: 320100
        province += add_approved(session=s, config=app.config, count=2, start=200, committee_id="JS-WS-GJ")
        city += add_approved(session=s, config=app.config, count=5, start=300)
        nowhere = add_approved(session=s, config=app.config, count=1, start=400, committee_id=None, track="初定",
                               region_code="990102")   # no title office covers region 99
    with app.sessions() as s:
        codes = issuance.eligible_issuers(session=s, config=app.config, batch_year=2026)
    assert codes == [issuance.NO_ISSUER, "320000", "320100"]
    summary = merged([issue(batch_year=2026, issuer=code, as_of=AS_OF) for code in reversed(codes)])
    numbers = {a: parse_number(no) for a, no, _ in registry(app)}
    assert {numbers[i].issuer_region_code for i in province} == {"320000"}
    assert {numbers[i].issuer_region_code for i in city} == {"320100"}
    counters = defaultdict(list)   # each counter's serials, in application order
    for i in sorted(province + city):
        n = numbers[i]
        counters[(n.issuer_region_code, n.year, n.level_digit)].append(n.serial)
    assert all(serials == list(range(1, len(serials) + 1)) for serials in counters.values()), counters
    assert nowhere[0] not in numbers
    assert (summary["eligible"], summary["issued"], len(summary["problems"])) == (14, 13, 1)
    # issuance batches of chunks of four: 5 of 320000's, 8 of 320100's (the problem's issued none)
    assert [r["certificates"] for r in summary["runs"]] == [4, 4, 4, 1]


@pytest.mark.parametrize("scope", [{"committee": "NJ-GC-ZJX"}, {"issuer": "320199"}])
def test_a_code_that_picks_nothing_fails_the_run_before_any_work(app, prefect_harness, scope):
    """Run from the Prefect UI, a misspelt committee or issuer is a Failed run that
    names it, not a Completed run that issued nothing."""
    from zhicheng.flows.issuance import issue
    with unit_of_work(app.sessions) as s:
        add_approved(session=s, config=app.config, count=2)     # NJ-GC-ZJ's, issuer 320100
    state = issue(batch_year=2026, as_of=AS_OF, return_state=True, **scope)
    (code,) = scope.values()
    assert state.is_failed() and repr(code) in state.message, state.message
    assert registry(app) == []
    assert issue(batch_year=2026, issuer=issuance.NO_ISSUER, as_of=AS_OF)["eligible"] == 0
    assert issue(batch_year=2026, committee="NJ-GC-ZJ", issuer="320100", as_of=AS_OF)["issued"] == 2
