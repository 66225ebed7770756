"""Which task runner runs a flow's chunks: threads here, Dask for scale-out.

ZHICHENG_TASK_RUNNER = threads (default) | dask (a LocalCluster for the run)
                     | dask://HOST:PORT (an existing cluster)
"""
from __future__ import annotations

import os

from prefect.task_runners import ThreadPoolTaskRunner


def chunk_runner(max_workers: int | None = None, *, choice: str | None = None):
    """The runner `choice` names (else ZHICHENG_TASK_RUNNER, else threads)."""
    choice = choice or os.environ.get("ZHICHENG_TASK_RUNNER", "threads")
    if choice == "threads":
        return ThreadPoolTaskRunner(max_workers=max_workers or (os.cpu_count() or 2))
    from prefect_dask import DaskTaskRunner
    if choice == "dask":
        return DaskTaskRunner(cluster_kwargs={"n_workers": os.cpu_count() or 2,
                                              "threads_per_worker": 1, "processes": True})
    if choice.startswith("dask://"):
        return DaskTaskRunner(address=choice.removeprefix("dask://"))
    raise ValueError(f"ZHICHENG_TASK_RUNNER={choice!r}: use threads, dask or dask://HOST:PORT")
