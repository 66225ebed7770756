"""Tasks, flows and commands share the one App of their process and database
(zhicheng.bootstrap.app_at): no engine is built per call (one never disposed leaked its
connections), and each call's clock is its own, since chunks on threads may run at
different `as_of`."""
from __future__ import annotations

import datetime as dt

import pytest

from zhicheng import bootstrap
from zhicheng.clock import SHANGHAI

LATE_DECEMBER, EARLY_JANUARY = "2026-12-28T20:00:00+08:00", "2027-01-05T09:00:00+08:00"


def test_tasks_build_no_engine_per_call(app, monkeypatch):
    from zhicheng.tasks import publicity, quality, review, votes
    from zhicheng.votes.service import UnknownSession
    built = []
    real = bootstrap.make_engine
    monkeypatch.setattr(bootstrap, "make_engine", lambda *a, **kw: built.append(a) or real(*a, **kw))
    for as_of in (None, LATE_DECEMBER, EARLY_JANUARY):
        assert publicity.unsettled_entries.fn(as_of) == []
        assert review.open_steps.fn(as_of)["ids"] == []
        with pytest.raises(UnknownSession):
            votes.tally_session.fn("NOSUCH-2026-01", False, as_of)
        quality.plan.fn("materials", None, as_of)
    assert len(built) <= 1   # the process's App for this database, made on first use


def test_commands_and_the_year_end_take_the_same_app(app, monkeypatch):
    from zhicheng.cli.output import app_at as command_app
    first, second = command_app("2026-12-28 20:00"), bootstrap.app_at(EARLY_JANUARY)
    assert first.engine is second.engine and first.engine is not app.engine
    assert first.clock.now() == dt.datetime(2026, 12, 28, 20, tzinfo=SHANGHAI)
    assert second.clock.now() == dt.datetime(2027, 1, 5, 9, tzinfo=SHANGHAI)
    bootstrap.close_apps()
    assert bootstrap.app_at().engine is not first.engine   # closed and forgotten: a new one


def test_each_call_of_the_issuance_context_keeps_its_own_clock(app):
    from zhicheng.tasks.issuance import context
    first, ctx = context(LATE_DECEMBER)
    second, ctx_again = context(EARLY_JANUARY)
    # before: one App per database whose clock each call reset, under the other threads
    assert first.clock.now() == dt.datetime(2026, 12, 28, 20, tzinfo=SHANGHAI)
    assert second.clock.now() == dt.datetime(2027, 1, 5, 9, tzinfo=SHANGHAI)
    assert second.engine is first.engine and ctx_again is ctx
