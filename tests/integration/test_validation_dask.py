"""Chunk-level scale-out on Dask (docs/scale-out.md): flow `validate` on a Dask
LocalCluster of worker processes ends in the same state as on the default thread runner.

Two identical sets of applications (same files, same faults, other numbers) are
validated, the first on threads and the second on Dask; each application's status,
findings and hall return must be the same as its twin's."""
from __future__ import annotations

import pytest
from sqlalchemy import select

import hostile_pdfs as h
from validation_data import replace_file, store, submission
from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import Application, Finding, OutboxItem

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness"), pytest.mark.xdist_group("dask")]
AS_OF = "2026-06-20T10:00:00+08:00"
TWINS = 6


def _store_set(app, first: int) -> None:
    """Applications first..first+TWINS-1; the 2nd and 5th of each set carry a blank page."""
    with unit_of_work(app.sessions) as s:
        for k in range(TWINS):
            sub, files = submission(first + k)
            if k in (1, 4):
                sub = replace_file(sub, files, "M03", h.text_pdf(1, blank_after=True))
            store(s, sub, files, files_root=app.settings.home, committees=app.config.committees)


def _state(app, first: int) -> list[tuple]:
    """Per application of a set, by its place in the set: status, findings, returns."""
    numbers = {f"JS2026{first + k:06d}": k for k in range(TWINS)}
    with app.sessions() as s:
        apps = s.scalars(select(Application).where(Application.submission_id.in_(numbers))).all()
        rows = []
        for a in apps:
            codes = sorted(s.scalars(select(Finding.code).where(Finding.application_id == a.id)))
            returns = s.scalars(select(OutboxItem.target).where(
                OutboxItem.dedupe_key.like(f"return:{a.submission_id}:%"))).all()
            rows.append((numbers[a.submission_id], a.status, codes, sorted(returns)))
    return sorted(rows)


def test_dask_local_cluster_gives_the_same_results_as_threads(app, monkeypatch, chunk_sizes):
    from zhicheng.flows.validation import validate
    from zhicheng.runners import chunk_runner
    chunk_sizes(validation=2)

    _store_set(app, 1)
    monkeypatch.setenv("ZHICHENG_TASK_RUNNER", "threads")
    on_threads = validate.with_options(task_runner=chunk_runner())(as_of=AS_OF)

    _store_set(app, 101)
    monkeypatch.setenv("ZHICHENG_TASK_RUNNER", "dask")
    runner = chunk_runner(max_workers=2)
    assert type(runner).__name__ == "DaskTaskRunner"
    on_dask = validate.with_options(task_runner=runner)(as_of=AS_OF)

    # same files but for each applicant's own tag, so only the byte count may differ
    assert {**on_dask, "bytes": 0} == {**on_threads, "bytes": 0}
    assert on_threads["returned"] == 2 and on_threads["chunks"] == 3
    assert _state(app, 101) == _state(app, 1)
