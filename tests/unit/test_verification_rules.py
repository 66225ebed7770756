"""Rules of the public verification service: guess limits on a clock the test moves,
status as the registry holds it, region scope, masked names."""
from __future__ import annotations

from hypothesis import given, strategies as st

from zhicheng.domain.privacy import mask_name
from zhicheng.domain.verification import (GuessLimiter, GuessPolicy, in_scope, region_prefix,
                                          status_view)

POLICY = GuessPolicy(free_failures=5, window_seconds=3600, first_delay_seconds=30, max_delay_seconds=3600)


def test_free_failures_then_a_doubling_wait_up_to_the_longest():
    limiter, t = GuessLimiter(POLICY), 1000.0
    waits = [limiter.failed("c", t) for _ in range(5)]
    assert waits == [0, 0, 0, 0, 30] and limiter.retry_after("c", t) == 30
    assert limiter.retry_after("c", t + 30) == 0
    assert [limiter.failed("c", t + 30 + i * 10_000) for i in range(1)] == [60]
    assert [POLICY.delay_after(n) for n in range(5, 14)] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_keys_are_limited_separately_and_forgiven_after_the_window():
    limiter = GuessLimiter(POLICY)
    for _ in range(5):
        limiter.failed("a", 0.0)
    assert limiter.retry_after("a", 1.0) > 0 and limiter.retry_after("b", 1.0) == 0
    assert limiter.retry_after("a", 3601.0) == 0
    assert limiter.failed("a", 3601.0) == 0  # a new window starts from nothing


def test_memory_is_bounded():
    limiter = GuessLimiter(POLICY, max_keys=100)
    for i in range(1000):
        limiter.failed(("client", i), 0.0)
    assert len(limiter._records) == 100


@given(st.lists(st.floats(min_value=0, max_value=10), min_size=1, max_size=40))
def test_a_guesser_never_gets_more_than_the_free_failures_quickly(gaps):
    """Trying again as soon as allowed, at most free_failures + log2(window/first) answers
    fit in the first hour: brute force of a 12-character code is hopeless."""
    limiter, t, answered = GuessLimiter(POLICY), 0.0, 0
    for gap in gaps * 10:
        t += gap + limiter.retry_after("x", t)
        if t > 3600:
            break
        limiter.failed("x", t)
        answered += 1
    assert answered <= 5 + 7


def test_status_view_reads_what_the_registry_holds():
    labels = {"valid": "有效", "revoked": "已撤销", "superseded": "已被取代"}
    assert status_view("valid", None, labels).valid
    replaced = status_view("revoked", "320100202630000036", labels)
    assert (replaced.valid, replaced.label, replaced.replaced_by) == (False, "已被取代", "320100202630000036")
    assert status_view("revoked", None, labels).label == "已撤销"
    later = status_view("cancelled", None, labels)  # a status this code never heard of
    assert (later.valid, later.label) == (False, "cancelled")
    assert not status_view("valid", "320100202630000036", labels).valid  # replaced though not yet revoked


def test_region_scope():
    assert region_prefix("320000") == "32" and region_prefix("321200") == "3212" and region_prefix("321202") == "321202"
    assert in_scope("321200", "321202") and in_scope("320000", "321202") and not in_scope("321200", "320102")
    assert not in_scope("321202", "321203") and not in_scope("321200", None)


def test_names_are_masked_as_the_issue_shows():
    assert [mask_name(n) for n in ("李小艳", "王五", "欧阳春华", "张", "", None)] == \
        ["李*艳", "王*", "欧**华", "*", "", ""]
