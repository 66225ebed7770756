"""The demo's per-stage account (bench/cycle reads it): CPU and the meters' change."""
from zhicheng.demo.driver import Timings


def test_a_stage_records_its_cpu_and_the_change_of_every_meter():
    counters = {"db_seconds": 2.0}
    timings = Timings(lambda: dict(counters))
    with timings("busy"):
        sum(i * i for i in range(2_000_000))   # CPU of this process
        counters["db_seconds"] += 1.5
        counters["prefect_api_seconds"] = 0.25  # a meter that appears during the stage
    row = timings.rows[0]
    assert row["stage"] == "busy"
    assert 0 < row["cpu_seconds"] <= row["seconds"] + 0.05
    assert row["db_seconds"] == 1.5 and row["prefect_api_seconds"] == 0.25
    assert row["exited_children_cpu_seconds"] >= 0 and row["peak_rss_mb"] > 0
