"""Long work as staff see it while it runs (cli.md: "Long work shows a progress bar on
a terminal and plain log lines otherwise"): the flows' progress (zhicheng.flows.progress)
and log lines on stderr. On a terminal, a bar a stage with the log lines above it;
otherwise (a pipe, a log file, cron) one plain line a step; with --json nothing but
warnings, so that stdout and stderr stay quiet for scripts.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from zhicheng.cli.output import err_console

LEVEL_WORDS = {logging.WARNING: "警告", logging.ERROR: "错误", logging.CRITICAL: "严重错误"}


def run(flow: Any, *, as_json: bool, **params: Any) -> Any:
    """Run a verb's flow (zhicheng.runtime.run_flow: reported to Prefect when an API is
    configured, plainly here otherwise), showing its progress as it goes."""
    from zhicheng.runtime import run_flow
    with shown(as_json):
        return run_flow(flow, **params)


@contextmanager
def shown(as_json: bool) -> Iterator[None]:
    from zhicheng.flows.progress import watch
    with ExitStack() as stack:
        if as_json:
            stack.enter_context(_logs_to(_PlainLines(), logging.WARNING))
            stack.enter_context(_prefect_console_at(logging.WARNING))
        elif err_console.is_terminal:
            bars = stack.enter_context(_Bars())
            stack.enter_context(_logs_to(bars, logging.INFO))
            stack.callback(watch(bars.report))
        else:
            lines = _PlainLines()
            stack.enter_context(_logs_to(lines, logging.INFO))
            stack.callback(watch(lines.report))
        yield


class _PlainLines(logging.Handler):
    """A line a log record or a step: `12:03:04 发证（600 件，3 批）：2/3 批`."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._line(_words(record) + record.getMessage(), record.created)
        except Exception:  # a log line must never stop the work
            self.handleError(record)

    def report(self, r: Any) -> None:
        if r.finished and r.total is not None:
            return  # the last step said it
        if r.finished:
            self._line(f"{r.description}：共 {r.done} {r.unit}")
        elif r.done:
            self._line(f"{r.description}：{r.done}/{r.total} {r.unit}" if r.total is not None
                       else f"{r.description}：第 {r.done} {r.unit}")

    @staticmethod
    def _line(text: str, when: float | None = None) -> None:
        stamp = time.strftime("%H:%M:%S", time.localtime(when))
        err_console.print(f"{stamp} {text}", markup=False, highlight=False, soft_wrap=True)


class _Bars(logging.Handler):
    """rich progress bars on stderr, one a stage; log lines printed above them."""

    def __enter__(self) -> _Bars:
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn,
                                   TimeElapsedColumn)
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TextColumn("{task.fields[unit]}"), TimeElapsedColumn(),
                                 console=err_console)
        self.tasks: dict[str, Any] = {}
        self.progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.stop()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.progress.console.print(_words(record) + record.getMessage(), markup=False, highlight=False)
        except Exception:
            self.handleError(record)

    def report(self, r: Any) -> None:
        if r.key not in self.tasks:
            self.tasks[r.key] = self.progress.add_task(r.description, total=r.total, unit=r.unit)
        task = self.tasks[r.key]
        total = r.done if r.finished and r.total is None else r.total
        completed = total if r.finished and total is not None else r.done
        self.progress.update(task, description=r.description, total=total, completed=completed)


def _words(record: logging.LogRecord) -> str:
    word = LEVEL_WORDS.get(record.levelno)
    return f"{word}：" if word else ""


@contextmanager
def _logs_to(handler: logging.Handler, level: int) -> Iterator[None]:
    """The `zhicheng` loggers (flows in a run without Prefect, services) to `handler`."""
    logger = logging.getLogger("zhicheng")
    handler.setLevel(level)
    saved = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


@contextmanager
def _prefect_console_at(level: int) -> Iterator[None]:
    """Prefect's console handlers (a flow run's lines, when an API is configured) at
    `level` for a while; what goes to the API is untouched."""
    from prefect.logging.handlers import PrefectConsoleHandler
    loggers = [logging.getLogger(), *(logging.getLogger(n) for n in list(logging.root.manager.loggerDict))]
    handlers = {h for lg in loggers for h in getattr(lg, "handlers", []) if isinstance(h, PrefectConsoleHandler)}
    saved = {h: h.level for h in handlers}
    for h in handlers:
        h.setLevel(max(h.level, level))
    try:
        yield
    finally:
        for h, lv in saved.items():
            h.setLevel(lv)
