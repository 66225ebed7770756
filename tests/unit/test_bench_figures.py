"""The cycle bench's own arithmetic (bench/_floors.py, bench/cycle.py): what a stage's
floor holds and how growth with the year is reported. The bench's figures are read
against these, so a wrong sum would mislead every run after it."""
from __future__ import annotations

import datetime as dt

import pytest

from bench._floors import _request_seconds, stage_floor
from bench._meters import phases
from bench.cycle import _linearity, _worker_total, table

FLOORS = {"row_seconds": 0.001, "request_seconds": 0.0005, "materials": 10, "store_file_seconds": 0.002,
          "check_file_seconds": 0.003, "certificates": 4, "layout_seconds": 0.01}


def test_a_stage_floor_counts_its_calls_to_the_hall_and_province():
    parts = stage_floor("review", 100, FLOORS, requests=40)
    assert parts == {"rows": pytest.approx(0.1), "requests": pytest.approx(0.02)}


def test_a_run_measured_before_calls_were_timed_keeps_its_old_floor():
    old = {k: v for k, v in FLOORS.items() if k != "request_seconds"}
    assert "requests" not in stage_floor("intake", 100, old, requests=40)
    assert stage_floor("学信", 100, FLOORS, requests=40) == {}


def test_the_request_floor_downloads_each_file_from_a_server_of_its_own(tmp_path):
    (tmp_path / "materials").mkdir()
    files = []
    for i in range(5):
        path = tmp_path / "materials" / f"f{i}"
        path.write_bytes(bytes([i]) * 30_000)
        files.append((path, False))
    assert _request_seconds(tmp_path, files) > 0
    missing = [(tmp_path / "materials" / "gone", False)]
    with pytest.raises(RuntimeError, match="answered 404"):
        _request_seconds(tmp_path, missing)


def _run(n: int, seconds: float, peak: float, child: float) -> dict:
    return {"applications": n, "runner": "inprocess", "cycle_seconds": seconds, "peak_rss_mb": peak,
            "children_peak_rss_mb": child}


def test_growth_with_the_year_reports_time_and_peak_memory_against_the_smallest_size():
    runs = [_run(10_000, 400.0, 600.0, 160.0), _run(100_000, 4_000.0, 750.0, 520.0)]
    got = _linearity(runs)
    assert got == [{"applications": 100_000, "size_ratio": 10.0, "time_ratio": 10.0, "linearity": 1.0,
                    "peak_rss_ratio": 1.25, "children_peak_rss_ratio": 3.25}]
    printed = table({"engines": {"sqlite": {"runs": runs, "linearity": got, "runners": {}}}})
    assert "sqlite, inprocess, against 10000: 100000: x10.0 the time for x10.0 the applications, " \
           "peak memory x1.25 (largest child x3.25)" in printed


def test_a_worker_runs_phases_come_from_its_state_history_in_time_order():
    at = dt.datetime(2026, 12, 7, 21, 0, tzinfo=dt.timezone.utc)
    s = lambda seconds: at + dt.timedelta(seconds=seconds)   # noqa: E731
    history = [("COMPLETED", s(19.5)), ("SCHEDULED", s(0)), ("RUNNING", s(7.25)), ("PENDING", s(4))]
    assert phases(history) == {"queued": 4.0, "startup": 3.25, "running": 12.25}
    # retried after a failure: it runs from its first Running to its last final state
    retried = history + [("FAILED", s(9)), ("RUNNING", s(10))]
    assert phases(retried)["running"] == pytest.approx(12.25)
    # a subflow in its parent's process was never queued for a worker
    assert phases([("RUNNING", s(1)), ("COMPLETED", s(2))]) == {"queued": 0.0, "startup": 0.0, "running": 1.0}


def test_the_workers_phases_sum_over_the_cycle_with_start_up_a_run():
    stages = [{"stage": "intake", "worker_flow_runs": {"runs": 1, "queued": 2.5, "startup": 4.0, "running": 100.0}},
              {"stage": "votes"},   # run in the demo's process: no worker run
              {"stage": "year-end", "worker_flow_runs": {"runs": 3, "queued": 30.0, "startup": 20.0, "running": 60.0}}]
    assert _worker_total(stages) == {"runs": 4, "queued": 32.5, "startup": 24.0, "running": 160.0,
                                     "startup_seconds_a_run": 6.0, "queued_seconds_a_run": 8.12}
    assert _worker_total([{"stage": "votes", "worker_flow_runs": {"runs": 0, "queued": 0.0, "startup": 0.0,
                                                                  "running": 0.0}}])["startup_seconds_a_run"] is None
