"""Flow code runs the same without a Prefect API (the command line's plain runs) as in a
Prefect run: tasks are calls with their retries, submitted chunks run on threads, and
nothing asks Prefect for anything (no_prefect_api makes any such request fail)."""
import threading

import pytest
from prefect import flow

from zhicheng.runtime import plain, run_flow, run_logger, table_artifact, task

pytestmark = pytest.mark.usefixtures("no_prefect_api")
ATTEMPTS: list[int] = []


class Busy(Exception):
    pass


def only_busy(task, task_run, state) -> bool:
    try:
        state.result()
    except Busy:
        return True
    return False


@task(name="flaky", retries=2, retry_delay_seconds=0, retry_condition_fn=only_busy)
def flaky(fail_times: int, error: type[Exception] = Busy) -> int:
    ATTEMPTS.append(1)
    if len(ATTEMPTS) <= fail_times:
        raise error("not yet")
    return len(ATTEMPTS)


@task(name="where")
def where(n: int) -> tuple[int, str]:
    return n, threading.current_thread().name


@flow(name="composed")
def composed(fail_times: int) -> dict:
    run_logger().info("plain: %s", plain())
    futures = [where.submit(n) for n in range(3)]
    table_artifact(key="composed", table=[{"a": 1}])   # no API: left out, not an error
    return {"attempts": flaky(fail_times), "chunks": [f.result() for f in futures]}


@pytest.fixture(autouse=True)
def fresh():
    ATTEMPTS.clear()


def test_a_flow_runs_its_own_code_without_prefect(caplog):
    caplog.set_level("INFO", logger="zhicheng.flows")
    got = run_flow(composed, fail_times=1)
    assert got["attempts"] == 2                                   # retried once, as Prefect would
    assert [n for n, _ in got["chunks"]] == [0, 1, 2]
    assert all(name.startswith("chunk") for _, name in got["chunks"])   # on the run's threads
    assert "plain: True" in caplog.text and not plain()


def test_retries_stop_where_the_task_says_and_the_error_is_the_tasks():
    with pytest.raises(Busy):
        run_flow(composed, fail_times=3)                          # 1 try + 2 retries
    assert len(ATTEMPTS) == 3
    ATTEMPTS.clear()

    @flow(name="not-busy")
    def not_busy():
        return flaky(1, ValueError)
    with pytest.raises(ValueError):
        run_flow(not_busy)
    assert len(ATTEMPTS) == 1                                     # the condition said no retry
