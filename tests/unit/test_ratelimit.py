"""Client-side rate limit and back-off, on a clock the test moves."""
import random
from itertools import pairwise

import pytest

from hypothesis import given, strategies as st

from zhicheng.connectors.http import Policy, backoff
from zhicheng.connectors.ratelimit import RateLimiter


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t

    def sleep(self, s):
        self.t += s


def starts(rate, n, burst=1):
    clock = Clock()
    limiter = RateLimiter(rate, burst=burst, clock=clock, sleep=clock.sleep)
    out = []
    for _ in range(n):
        limiter.acquire()
        out.append(clock.t)
    return out


def test_requests_are_spaced_evenly_at_the_rate():
    times = starts(20, 41)
    gaps = [b - a for a, b in pairwise(times)]
    assert min(gaps) == pytest.approx(0.05) and times[-1] - times[0] == pytest.approx(2.0)


def test_no_window_of_one_second_exceeds_the_rate():
    times = starts(7, 50, burst=3)
    for i, t in enumerate(times):
        in_window = [u for u in times[i:] if u < t + 1.0 - 1e-6]
        assert len(in_window) <= 7 + 2


def test_idle_time_is_not_saved_up_beyond_the_burst():
    clock = Clock()
    limiter = RateLimiter(10, burst=2, clock=clock, sleep=clock.sleep)
    clock.t += 60
    assert [limiter.reserve() for _ in range(3)] == pytest.approx([0.0, 0.0, 0.1])


@given(st.integers(min_value=0, max_value=40), st.integers(min_value=0, max_value=2**32))
def test_backoff_is_within_its_jitter_bound(attempt, seed):
    p = Policy(backoff_base_seconds=0.5, backoff_cap_seconds=30)
    wait = backoff(attempt, p, random.Random(seed))
    assert 0 <= wait <= min(30, 0.5 * 2 ** attempt)
