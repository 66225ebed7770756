"""Several requests at a time to one system, until it stops answering (connectors.in_flight)."""
from __future__ import annotations

import threading

import pytest

from zhicheng.connectors.in_flight import NOT_SENT, until_outage


class Refused(Exception):
    pass


class Down(Exception):
    pass


def is_down(answer):
    return isinstance(answer, Down)


def test_answers_come_back_in_the_items_order_with_kept_errors_in_place():
    def call(n):
        if n % 3 == 0:
            raise Refused(n)
        return n * 10

    got = until_outage(call, list(range(7)), in_flight=3, kept=(Refused, Down), outage=is_down)

    assert [a.args[0] if isinstance(a, Refused) else a for a in got] == [0, 10, 20, 3, 40, 50, 6]
    assert [type(a) for a in got if isinstance(a, Exception)] == [Refused, Refused, Refused]


def test_no_request_starts_after_an_outage_and_the_rest_is_not_sent():
    started = []

    def call(n):
        started.append(n)
        if n == 2:
            raise Down("503")
        return n

    got = until_outage(call, list(range(6)), in_flight=1, kept=(Down,), outage=is_down)

    assert started == [0, 1, 2]
    assert got[:2] == [0, 1] and isinstance(got[2], Down)
    assert got[3:] == [NOT_SENT] * 3


def test_an_answer_can_be_an_outage_without_an_exception():
    got = until_outage(lambda n: (503 if n == 1 else 200, n), [0, 1, 2], in_flight=1, kept=(),
                       outage=lambda answer: answer[0] != 200)

    assert got == [(200, 0), (503, 1), NOT_SENT]


def test_requests_overlap_up_to_the_bound_and_never_beyond():
    lock, now, peak = threading.Lock(), [0], [0]
    together = threading.Barrier(3, timeout=10)   # fails, not hangs, if three never overlap

    def call(n):
        with lock:
            now[0] += 1
            peak[0] = max(peak[0], now[0])
        if n < 3:
            together.wait()
        with lock:
            now[0] -= 1
        return n

    got = until_outage(call, list(range(12)), in_flight=3, kept=(), outage=lambda _: False)

    assert got == list(range(12))
    assert peak[0] == 3


def test_an_unexpected_error_stops_the_rest_and_is_raised():
    started = []

    def call(n):
        started.append(n)
        if n == 1:
            raise KeyError("misconfigured")
        return n

    with pytest.raises(KeyError):
        until_outage(call, list(range(5)), in_flight=1, kept=(Down,), outage=is_down)
    assert started == [0, 1]
