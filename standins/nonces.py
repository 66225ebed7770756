"""The stand-ins' memory of recent nonces (the contract: a nonce used within the last 10
minutes is refused). Kept in arrival order, so forgetting the expired ones is a pop
from the front: constant time a request, at any volume (a year of 10,000 applications
is about 100,000 requests in an hour)."""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable


class NonceMemory:
    def __init__(self, memory_seconds: float) -> None:
        self.memory_seconds = memory_seconds
        self._seen: OrderedDict[Hashable, float] = OrderedDict()

    def first_use(self, key: Hashable, now: float) -> bool:
        """Record `key` used at `now`; False when it was used within the memory."""
        self._forget_before(now - self.memory_seconds)
        seen = self._seen.get(key)
        if seen is not None and now - seen < self.memory_seconds:
            return False
        self._seen[key] = now
        self._seen.move_to_end(key)
        return True

    def __len__(self) -> int:
        return len(self._seen)

    def _forget_before(self, horizon: float) -> None:
        while self._seen:
            key, at = next(iter(self._seen.items()))
            if at > horizon:
                return
            del self._seen[key]
