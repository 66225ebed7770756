"""The year-end orchestration: resumable, one run per batch year.

The steps' own flows are replaced by small flows that count their calls, so these
tests are about the orchestration; each step's effects are tested with its feature.
"""
import json
import threading

import pytest
from prefect import flow
from prefect.artifacts import Artifact
from sqlalchemy import select

from zhicheng.locks import AlreadyRunning, exclusive
from zhicheng.year_end.models import YearEndStep

pytestmark = pytest.mark.usefixtures("prefect_harness")

CALLS: list[str] = []
CRASH: set[str] = set()


def _step(name):
    @flow(name=f"fake-{name}")
    def step(batch_year: int, as_of: str | None = None):
        CALLS.append(name)
        if name in CRASH:
            raise RuntimeError(f"{name} crashed")
        return {"step": name, "batch_year": batch_year}
    return step


@pytest.fixture
def fake_steps(monkeypatch):
    import zhicheng.flows.year_end as ye
    CALLS.clear()
    CRASH.clear()
    fakes = {path: _step(name) for name, path in ye.STEP_FLOWS.items()}
    monkeypatch.setattr(ye, "import_object", fakes.__getitem__)
    return ye


def test_crash_then_rerun_continues_without_redoing_finished_steps(app, fake_steps):
    CRASH.add("push")
    with pytest.raises(RuntimeError, match="push crashed"):
        fake_steps.year_end(batch_year=2026, as_of="2026-12-28T20:00:00+08:00", wait_seconds=5)
    assert CALLS == ["close_publicity", "issue", "push"]
    CRASH.clear()
    CALLS.clear()
    result = fake_steps.year_end(batch_year=2026, as_of="2026-12-28T21:00:00+08:00", wait_seconds=5)
    assert CALLS == ["push", "reconcile", "quality"]
    assert [r["state"] for r in result["steps"]] == ["already done"] * 2 + ["done"] * 3
    table = json.loads(Artifact.get("year-end-2026").data)
    assert [(r["步骤"], r["状态"]) for r in table] == \
        [("关闭到期公示", "此前已完成（跳过）"), ("发证", "此前已完成（跳过）"), ("推送", "完成"), ("核对", "完成"),
         ("质量检查", "完成")]
    with app.sessions() as s:
        assert sorted(s.scalars(select(YearEndStep.step))) == sorted(fake_steps.STEP_FLOWS)
    CALLS.clear()
    fake_steps.year_end(batch_year=2026, wait_seconds=5)
    assert CALLS == []


def test_second_run_of_the_same_year_is_refused_clearly(app, fake_steps):
    # Another process holds the year's database lock (e.g. a run started from a shell).
    outcome = {}
    with exclusive(app.engine, "year-end:2026", now=app.clock.now()):
        def second():
            try:
                fake_steps.year_end(batch_year=2026, wait_seconds=5)
            except AlreadyRunning as exc:
                outcome["error"] = str(exc)
        t = threading.Thread(target=second)
        t.start()
        t.join()
    assert "already running" in outcome["error"]
    assert CALLS == []


def test_an_unknown_year_is_refused_not_recorded_as_done(app, fake_steps):
    from zhicheng.config import UnknownBatchYear
    with pytest.raises(UnknownBatchYear, match="1999"):
        fake_steps.year_end(batch_year=1999, wait_seconds=5)
    assert CALLS == []
    with app.sessions() as s:
        assert list(s.scalars(select(YearEndStep.step))) == []


def test_the_year_runs_without_prefect_from_the_command_line(app, fake_steps, no_prefect_api):
    from zhicheng.runtime import run_flow
    result = run_flow(fake_steps.year_end, batch_year=2026, as_of="2026-12-28T20:00:00+08:00", wait_seconds=1)
    assert CALLS == list(fake_steps.STEP_FLOWS) and [r["state"] for r in result["steps"]] == ["done"] * 5
    with exclusive(app.engine, "year-end:2026", now=app.clock.now()), pytest.raises(AlreadyRunning):
        run_flow(fake_steps.year_end, batch_year=2026, wait_seconds=0)
