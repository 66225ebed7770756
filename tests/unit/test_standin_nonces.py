"""The stand-ins' nonce memory: refused within ten minutes, forgotten after, and only
the last ten minutes are held however many requests came before."""
from __future__ import annotations

from zhicheng.standins.nonces import NonceMemory


def test_a_nonce_is_refused_within_the_memory_and_accepted_after():
    memory = NonceMemory(600)
    assert memory.first_use(("app", "n1"), 1000.0)
    assert not memory.first_use(("app", "n1"), 1599.0)
    assert memory.first_use(("other-app", "n1"), 1599.0)
    assert memory.first_use(("app", "n1"), 1600.0)
    assert not memory.first_use(("app", "n1"), 1601.0)


def test_only_the_last_ten_minutes_are_held():
    memory = NonceMemory(600)
    per_second = 50
    for i in range(100_000):                     # 2,000 seconds of requests
        assert memory.first_use(("app", f"n{i}"), i / per_second)
    assert len(memory) <= 600 * per_second + 1
    assert not memory.first_use(("app", "n99999"), 99_999 / per_second + 1)
    assert memory.first_use(("app", "n0"), 99_999 / per_second)


def test_a_reused_nonce_keeps_its_first_time():
    memory = NonceMemory(600)
    assert memory.first_use("n", 0.0)
    assert not memory.first_use("n", 300.0)      # a refusal does not extend the memory
    assert memory.first_use("n", 600.0)
