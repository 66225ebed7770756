"""Process pools of this process (stdlib ProcessPoolExecutor), started on first use and
kept between uses: starting a worker costs about a second.

Workers are spawned, not forked: the processes that use them run threads (Prefect's),
which a fork would copy mid-lock. Each worker exits when the process that started it
dies: an idle worker waits on a queue whose writing end it holds itself, so without a
watch a SIGKILLed flow would leave its workers behind for good.
"""
from __future__ import annotations

import multiprocessing
import os
import select
import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")
_POOLS: dict[Hashable, ProcessPoolExecutor] = {}
_LOCK = threading.Lock()


def _forget_after_fork() -> None:
    """A forked child inherits the parent's pools without their threads: they would
    take its work and never answer. The child starts pools of its own."""
    global _LOCK
    _POOLS.clear()
    _LOCK = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


def available() -> bool:
    """Whether this process may start workers: a daemonic one (a multiprocessing pool's
    worker, a Dask worker) may not, and does the work itself."""
    return not multiprocessing.current_process().daemon


def processes(configured: int | None) -> int:
    """Workers a pool gets: as configured, or one a core for 0 or none."""
    return int(configured or 0) or os.cpu_count() or 1


def shares(items: int, processes: int, min_share: int) -> int:
    """Among how many workers `items` are worth sharing, each getting `min_share` at
    least; below 2, the caller does the work itself (so does a daemonic process)."""
    return min(processes, items // min_share) if available() else 0


def run(key: Hashable, processes: int, initializer: Callable[..., None], initargs: tuple,
        fn: Callable[[T], R], parts: list[T]) -> list[R] | None:
    """`fn` over `parts` in this key's pool, in order; None where a worker died (killed,
    out of memory): the pool is dropped, a new one serves the next call, and the caller
    does this work itself."""
    try:
        return list(pool(key, processes, initializer, initargs).map(fn, parts))
    except BrokenProcessPool:
        drop(key)
        return None


def pool(key: Hashable, processes: int, initializer: Callable[..., None], initargs: tuple) -> ProcessPoolExecutor:
    """The pool of this key, started with `processes` workers each running `initializer`."""
    with _LOCK:
        if key not in _POOLS:
            _POOLS[key] = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"),
                                              initializer=_start, initargs=(os.getpid(), initializer, initargs))
        return _POOLS[key]


def drop(key: Hashable) -> None:
    """Forget this key's pool (its workers are stopped); the next `pool` starts a new one."""
    with _LOCK:
        gone = _POOLS.pop(key, None)
    if gone is not None:
        gone.shutdown(wait=False, cancel_futures=True)


def workers(key: Hashable) -> list[int]:
    """The process ids of this key's workers (none before its first use)."""
    with _LOCK:
        running = _POOLS.get(key)
        return list(running._processes) if running is not None and running._processes else []


def _start(parent: int, initializer: Callable[..., None], initargs: tuple) -> None:
    threading.Thread(target=_exit_with, args=(parent,), daemon=True, name="parent-watch").start()
    initializer(*initargs)


def _exit_with(parent: int) -> None:
    try:
        fd = os.pidfd_open(parent)   # readable once the parent has exited
        select.select([fd], [], [])
    except (AttributeError, OSError):   # no pidfd (old kernel) or the parent is already gone
        while os.getppid() == parent:
            time.sleep(1)
    os._exit(1)
