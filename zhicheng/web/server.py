"""How `zhicheng web` runs its application on uvicorn: one set of server settings for
the command and for bench/web.py, so that the bench measures what an office runs.

Each worker process builds its own App and application (`from_environment`): its own
connection to the database and its own guess counts (docs/verification.md).
"""
from __future__ import annotations

import asyncio
import copy
import logging
from typing import Any

APP = "zhicheng.web.app:from_environment"

# httptools parses HTTP in C and uvloop runs the event loop in C (both pinned); without
# them uvicorn would fall back to h11 and asyncio, at about half the rate.
HTTP = "httptools"
LOOP = "uvloop"


class TurnLogHandler(logging.StreamHandler):
    """The service's log lines (one a request), written to the stream once a turn of
    the event loop: the lines of the requests one turn served go out in one write, not
    a write and a flush each. Off the loop (start-up, threads, shutdown) at once."""

    def __init__(self, stream: Any = None) -> None:
        super().__init__(stream)
        self._lines: list[str] = []
        self._due: asyncio.AbstractEventLoop | None = None  # the loop a write is due on

    def emit(self, record: logging.LogRecord) -> None:  # called holding self.lock
        try:
            self._lines.append(self.format(record) + self.terminator)
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self._write()
                return
            if self._due is not loop:  # (a loop closed before its turn ended never wrote)
                self._due = loop
                loop.call_soon(self.flush)
        except Exception:
            self.handleError(record)

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            self._due = None
            self._write()

    def _write(self) -> None:
        if self._lines:
            text, self._lines = "".join(self._lines), []
            self.stream.write(text)
            self.stream.flush()


def log_config(level: str = "INFO") -> dict[str, Any]:
    """uvicorn's logging, plus the service's one line a request (zhicheng.web: method,
    route, status, time). uvicorn applies it in every worker process."""
    from uvicorn.config import LOGGING_CONFIG
    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["zhicheng"] = {"format": "%(asctime)s %(name)s %(message)s"}
    config["handlers"]["zhicheng"] = {"class": "zhicheng.web.server.TurnLogHandler", "formatter": "zhicheng",
                                      "stream": "ext://sys.stderr"}
    config["loggers"]["zhicheng"] = {"handlers": ["zhicheng"], "level": level, "propagate": False}
    return config


def run(*, host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
        forwarded_allow_ips: str = "127.0.0.1", app: str = APP, log_level: str = "info") -> None:
    """Serve until stopped. `app` names a factory ("module:function") that each worker
    calls; the bench passes its bare endpoint's the same way."""
    import uvicorn
    level = log_level.upper()
    # access_log off: uvicorn's line carries the query string (number and code);
    # zhicheng.web logs method, route, status and time instead
    uvicorn.run(app, factory=True, host=host, port=port, workers=workers, http=HTTP, loop=LOOP,
                access_log=False, proxy_headers=True, forwarded_allow_ips=forwarded_allow_ips,
                server_header=False, log_level=logging.getLevelName(level), log_config=log_config(level))
