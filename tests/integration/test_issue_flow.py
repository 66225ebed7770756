"""The `issue` flow: chunks, re-runs and a crash between chunks (both engines)."""
from __future__ import annotations

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
