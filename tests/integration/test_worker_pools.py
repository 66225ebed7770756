"""Worker processes end with the process that started them, even when it is SIGKILLed
with its workers idle (they would otherwise wait forever on their queue)."""
from __future__ import annotations

import os
import select
import subprocess
import sys

DRIVER = r"""
import os, signal, sys
from zhicheng import worker_pools
pool = worker_pools.pool(("test",), 2, abs, (0,))
assert list(pool.map(abs, [-1, -2, -3])) == [1, 2, 3]
print(*worker_pools.workers(("test",)), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_workers_exit_when_their_parent_is_killed():
    proc = subprocess.Popen([sys.executable, "-c", DRIVER], stdout=subprocess.PIPE, text=True)
    pids = [int(p) for p in proc.stdout.readline().split()]
    assert proc.wait(timeout=60) == -9 and len(pids) == 2
    watched = []
    for pid in pids:
        try:
            watched.append(os.pidfd_open(pid))
        except ProcessLookupError:
            continue   # already gone
    for fd in watched:
        ready, _, _ = select.select([fd], [], [], 30)   # readable once that worker has exited
        os.close(fd)
        assert ready, "a worker outlived the process that started it"


def _doubled_in_pool(values, answer=None):
    from zhicheng import worker_pools
    got = list(worker_pools.pool(("test-fork",), 2, abs, (0,)).map(abs, values))
    if answer is not None:
        answer.put(got)
    return got


def test_a_forked_child_starts_pools_of_its_own():
    """The parent's pool, inherited by fork without its threads, would hang the child."""
    import multiprocessing
    from zhicheng import worker_pools
    fork = multiprocessing.get_context("fork")
    assert _doubled_in_pool([-1, -2]) == [1, 2]
    answer = fork.Queue()
    child = fork.Process(target=_doubled_in_pool, args=([-3, -4], answer))   # forked after the pool exists
    try:
        child.start()
        got = answer.get(timeout=60)   # the inherited pool would never answer
    finally:
        if child.is_alive():
            child.kill()
        worker_pools.drop(("test-fork",))
    assert got == [3, 4]
