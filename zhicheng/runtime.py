"""Where a flow's code runs: as a Prefect run, or plainly in this process.

With a Prefect API (PREFECT_API_URL, a profile's, or a server a test started) a flow
runs as a Prefect flow run: its tasks, logs and artifacts are in the UI. The command
line runs the same code without Prefect when no API is configured, instead of letting
Prefect start a temporary server for one command: that took 10 to 30 s a command and
failed outright on a busy machine ("Timed out while attempting to connect to ephemeral
Prefect API server"). In such a plain run tasks are calls of their functions (with the
same retries), submitted chunks run on threads, log lines go to the `zhicheng.flows`
logger (the command line shows them) and artifacts are left out: the command prints
what they would show.

Flows and tasks use this module's `task`, `run_logger`, `table_artifact`,
`markdown_artifact` and `run_flow` instead of Prefect's, and work the same either way.
"""
from __future__ import annotations

import contextvars
import logging
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from prefect import Task

log = logging.getLogger("zhicheng.flows")

_PLAIN: contextvars.ContextVar[_PlainRun | None] = contextvars.ContextVar("zhicheng_plain_run", default=None)


class _PlainRun:
    """A flow run without Prefect: a thread pool for submitted chunks, made on first use."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="chunk")
        return self._pool.submit(contextvars.copy_context().run, fn, *args)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)


def in_prefect_run() -> bool:
    """True inside a Prefect flow or task run."""
    from prefect.context import FlowRunContext, TaskRunContext
    return FlowRunContext.get() is not None or TaskRunContext.get() is not None


def api_configured() -> bool:
    """True when Prefect has an API to report to (no temporary server needed)."""
    from prefect.settings import PREFECT_API_URL
    return bool(PREFECT_API_URL.value())


def plain() -> bool:
    """True in a run of flow code without Prefect."""
    return _PLAIN.get() is not None


@contextmanager
def _plain_run() -> Iterator[None]:
    run = _PlainRun()
    token = _PLAIN.set(run)
    try:
        yield
    finally:
        _PLAIN.reset(token)
        run.close()


def run_flow(flow: Any, /, *, run_name: str | None = None, **params: Any) -> Any:
    """Run `flow` with `params`: as a subflow inside a Prefect run (named `run_name`), as
    a flow run when a Prefect API is configured, else its own code in this process.

    Returns the flow's summary, also of a run that ended Failed because it needs a person
    (zhicheng.flows.attention: the state carries the summary); any other failure raises."""
    if plain():
        return flow.fn(**params)
    if in_prefect_run() or api_configured():
        state = (flow.with_options(flow_run_name=run_name) if run_name else flow)(**params, return_state=True)
        return result_of(state)
    with _plain_run():
        return flow.fn(**params)


def result_of(state: Any) -> Any:
    """A finished run's result; a Failed run's summary when it failed for a person."""
    if state.is_failed():
        data = state.result(raise_on_failure=False)
        if isinstance(data, dict):
            return data
    return state.result()


class PlainableTask(Task):
    """A Prefect task that, in a run without Prefect, is a call of its function (its
    retries and retry condition kept), and whose `.submit` runs on the run's threads."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not plain():
            return super().__call__(*args, **kwargs)
        return self._call(args, kwargs)

    def submit(self, *args: Any, **kwargs: Any) -> Any:
        run = _PLAIN.get()
        if run is None:
            return super().submit(*args, **kwargs)
        return run.submit(self._call, args, kwargs)

    def _call(self, args: tuple, kwargs: dict) -> Any:
        attempt = 0
        while True:
            try:
                return self.fn(*args, **kwargs)
            except Exception as exc:
                if attempt >= (self.retries or 0) or not self._retryable(exc):
                    raise
                time.sleep(self._delay(attempt))
                attempt += 1

    def _retryable(self, exc: Exception) -> bool:
        if self.retry_condition_fn is None:
            return True
        # Without Prefect there is no task run, and _Raised is the one part of a State a
        # retry condition reads: the call stands in for Prefect's (self, run, state).
        return bool(self.retry_condition_fn(self, None, _Raised(exc)))  # type: ignore[arg-type]

    def _delay(self, attempt: int) -> float:
        delay = self.retry_delay_seconds or 0
        if isinstance(delay, list):
            return float(delay[min(attempt, len(delay) - 1)]) if delay else 0.0
        return float(delay)


class _Raised:
    """What a retry condition reads of a failed attempt (Prefect passes the state)."""

    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def result(self, *args: Any, **kwargs: Any) -> Any:
        raise self.exc


def task(**options: Any) -> Callable[[Callable[..., Any]], PlainableTask]:
    """`prefect.task(**options)` whose task also runs without Prefect (PlainableTask)."""
    return lambda fn: PlainableTask(fn=fn, **options)


def run_logger() -> logging.Logger | logging.LoggerAdapter:
    """The run's Prefect logger in a Prefect run (lines reach the UI), else `zhicheng.flows`."""
    if in_prefect_run():
        from prefect import get_run_logger
        return get_run_logger()
    return log


def table_artifact(**kwargs: Any) -> None:
    """A table artifact on the current Prefect run; nothing in a plain run."""
    if in_prefect_run():
        from prefect.artifacts import create_table_artifact
        create_table_artifact(**kwargs)


def markdown_artifact(**kwargs: Any) -> None:
    """A markdown artifact on the current Prefect run; nothing in a plain run."""
    if in_prefect_run():
        from prefect.artifacts import create_markdown_artifact
        create_markdown_artifact(**kwargs)
