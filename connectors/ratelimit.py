"""Client-side rate limit: requests are spaced so the server's limit is never reached.

A generic cell rate algorithm: evenly spaced slots, one every 1/rate seconds, with at
most `burst` taken ahead of time. With the default burst of 1 a server that counts
in its own windows never sees two of our requests closer than it allows, so staying
under its limit does not depend on 429s.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    def __init__(self, rate_per_second: float, *, burst: int = 1,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if rate_per_second <= 0:
            raise ValueError("rate_per_second must be positive")
        self.interval = 1.0 / rate_per_second
        self.tolerance = (max(1, burst) - 1) * self.interval
        self.clock, self.sleep = clock, sleep
        self._tat = clock()  # theoretical arrival time of the next request
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take the next slot; returns how long the caller must wait until it."""
        with self._lock:
            now = self.clock()
            tat = max(self._tat, now)
            self._tat = tat + self.interval
            return max(0.0, tat - self.tolerance - now)

    def acquire(self) -> None:
        wait = self.reserve()
        if wait > 0:
            self.sleep(wait)
