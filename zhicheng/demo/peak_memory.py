"""This process's peak resident memory over a span of time, not since it started.

ru_maxrss never falls, so after the largest stage every later stage would show that
stage's peak. Linux keeps the peak as VmHWM and resets it to the current RSS when "5"
is written to /proc/self/clear_refs (proc(5)): a stage then reads its own peak. Where
that is not possible (another OS, a /proc that refuses it) the peak is the process's
so far, and `reset` says so by returning False.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import resource
from pathlib import Path

_STATUS, _CLEAR_REFS = Path("/proc/self/status"), Path("/proc/self/clear_refs")


def reset() -> bool:
    """Start a new span; False when the kernel's peak could not be reset."""
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def peak_mb() -> float:
    """The peak resident memory since the last `reset` (since the start without one)."""
    return _status_mb("VmHWM:") or maxrss_mb(resource.RUSAGE_SELF)


def current_mb() -> float | None:
    """The resident memory now (None where /proc cannot say): what a stage leaves held."""
    return _status_mb("VmRSS:")


def _status_mb(field: str) -> float | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(field):
                return round(int(line.split()[1]) / 1024, 1)   # kB
    except OSError:
        pass
    return None


def maxrss_mb(who: int) -> float:
    """ru_maxrss of this process or of its reaped children: the peak since they started."""
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)   # Linux: kB


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                     "fsmblks", "uordblks", "fordblks", "keepcost")]


def malloc_mb() -> dict[str, float] | None:
    """What C's allocator holds (glibc's mallinfo2, every arena; None elsewhere):
    `in_use` by live allocations, `free_held` freed but kept in its heaps (not given back
    to the system: fragmentation, or room for the next allocation), `mmapped` in blocks
    of their own. Python's small objects are not here: its allocator maps arenas of
    its own (the driver counts them as `python_blocks`)."""
    mallinfo2 = _mallinfo2()
    if mallinfo2 is None:
        return None
    m = mallinfo2()
    mb = lambda n: round(n / 2**20, 1)   # noqa: E731
    return {"in_use": mb(m.uordblks + m.hblkhd), "free_held": mb(m.fordblks), "mmapped": mb(m.hblkhd)}


@functools.cache
def _mallinfo2():
    """glibc's mallinfo2, looked up once (None where the C library has none)."""
    try:
        fn = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallinfo2
    except (OSError, AttributeError):
        return None
    fn.restype = _MallInfo2
    return fn
