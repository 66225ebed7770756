"""How `zhicheng web` runs its application on uvicorn: one set of server settings for
the command and for bench/web.py, so that the bench measures what an office runs.

Each worker process builds its own App and application (`from_environment`): its own
connection to the database and its own guess counts (docs/verification.md).
"""
from __future__ import annotations

import copy
import logging
from typing import Any

APP = "zhicheng.web.app:from_environment"

# httptools parses HTTP in C and uvloop runs the event loop in C (both pinned); without
# them uvicorn would fall back to h11 and asyncio, at about half the rate.
HTTP = "httptools"
LOOP = "uvloop"


def log_config(level: str = "INFO") -> dict[str, Any]:
    """uvicorn's logging, plus the service's one line a request (zhicheng.web: method,
    route, status, time). uvicorn applies it in every worker process."""
    from uvicorn.config import LOGGING_CONFIG
    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["zhicheng"] = {"format": "%(asctime)s %(name)s %(message)s"}
    config["handlers"]["zhicheng"] = {"class": "logging.StreamHandler", "formatter": "zhicheng",
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
