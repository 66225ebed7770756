"""The education sync's view of the 学信 connector (zhicheng.connectors.chsi).

The connector does the wire work (signing, timeouts, retries with back-off, Retry-After,
the client-side rate limit); this adapter only turns its results into (status, body)
of definite answers and its give-ups into `ChsiUnavailable`.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from zhicheng.services.education_fetch import ChsiNotConfigured


@contextlib.contextmanager
def connector_gateway(settings: Any, config: Any) -> Iterator[Any]:
    try:
        from zhicheng.connectors import chsi  # noqa: F401
    except ImportError:
        raise ChsiNotConfigured("the 学信 connector zhicheng.connectors.chsi is not available") from None
    raise ChsiNotConfigured("the 学信 connector's API is not wired into the education sync yet")
    yield  # pragma: no cover
