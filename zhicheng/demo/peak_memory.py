"""This process's peak resident memory over a span of time, not since it started.

ru_maxrss never falls, so after the largest stage every later stage would show that
stage's peak. Linux keeps the peak as VmHWM and resets it to the current RSS when "5"
is written to /proc/self/clear_refs (proc(5)): a stage then reads its own peak. Where
that is not possible (another OS, a /proc that refuses it) the peak is the process's
so far, and `reset` says so by returning False.
"""
from __future__ import annotations

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
