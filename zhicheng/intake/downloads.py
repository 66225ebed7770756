"""A page's files fetched by worker processes, each with a hall client of its own.

Fetching a file is mostly Python (requests, the signature of each call) under one GIL,
and it was about half of intake's time in the flow's process. Worker processes
(config/policy.yaml `intake.download_processes`, 0: one a core) each take a share of
the page's files and fetch it a few at a time, writing every file content-addressed
and making its share durable before it answers (zhicheng.intake.files), exactly as the
flow's process would. The page's submissions are stored by the flow's process once
every file is in, so a crash at any point leaves at most unreferenced files that the
re-run reuses. An outage in a worker reaches the caller as the hall's Unavailable:
nothing of the page is stored. A worker imports this module, the hall's client and
zhicheng.intake.files only: no database code.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from zhicheng import worker_pools
from zhicheng.connectors.hall import HallClient
from zhicheng.connectors.http import SignedClient
from zhicheng.intake.files import Fetched, FileKey, fetch_files

MIN_SHARE = 8   # files a worker gets at least: fewer are fetched here


class Downloader:
    """`fetch(wants)`, wants {key: cap in bytes}: {key: StoredFile, TooLarge for a file
    beyond its cap (no more than the cap read), or None for one the hall does not have}."""

    def __init__(self, hall: HallClient, files_root: Path, *, processes: int, in_flight: int) -> None:
        http = hall.http
        self.hall, self.files_root, self.processes, self.in_flight = hall, Path(files_root), processes, in_flight
        self._recipe = dict(system=http.system, url=http.base, app_id=http.app_id, secret=http.secret,
                            policy=http.policy)
        # one pool a process, hall client and workspace (zhicheng.worker_pools)
        self._key = ("downloads", repr(sorted(self._recipe.items())), str(self.files_root), in_flight)

    @classmethod
    def from_config(cls, hall: HallClient, files_root: Path, config: Any) -> Downloader:
        own = config.policy.intake
        return cls(hall, files_root, processes=worker_pools.processes(own.download_processes),
                   in_flight=own.downloads_in_flight)

    def fetch(self, wants: Mapping[FileKey, int]) -> dict[FileKey, Fetched]:
        shares = worker_pools.shares(len(wants), self.processes, MIN_SHARE)
        if shares >= 2:
            items = list(wants.items())
            got = worker_pools.run(self._key, self.processes, _start,
                                   (self._recipe, str(self.files_root), self.in_flight),
                                   _fetch_share, [dict(items[i::shares]) for i in range(shares)])
            if got is not None:
                return {k: v for part in got for k, v in part.items()}
        return fetch_files(self.hall, wants, self.files_root, self.in_flight)


_WORKER: dict[str, Any] = {}


def _start(recipe: dict[str, Any], files_root: str, in_flight: int) -> None:
    _WORKER.update(hall=HallClient(SignedClient(**recipe)), files_root=Path(files_root), in_flight=in_flight)


def _fetch_share(wants: dict[FileKey, int]) -> dict[FileKey, Fetched]:
    return fetch_files(_WORKER["hall"], wants, _WORKER["files_root"], _WORKER["in_flight"])
