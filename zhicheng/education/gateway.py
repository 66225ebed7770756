"""The education sync's view of the 学信 connector (zhicheng.connectors.chsi).

The connector does the wire work (signing, timeouts, retries with back-off, Retry-After,
the client-side rate limit); this adapter only turns its give-ups into `ChsiUnavailable`.
A configuration problem (401/403) is not an outage: it propagates and fails loudly.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from zhicheng.connectors.chsi import ChsiAnswer, ChsiClient
from zhicheng.connectors.errors import Rejected, Unavailable
from zhicheng.education.fetch import ChsiUnavailable


class ConnectorGateway:
    def __init__(self, client: ChsiClient) -> None:
        self.client = client

    def education_records(self, id_number: str, name: str) -> ChsiAnswer:
        return self._ask(self.client.education_records, id_number, name)

    def verification_report(self, online_code: str) -> ChsiAnswer:
        return self._ask(self.client.verification_report, online_code)

    @staticmethod
    def _ask(fn: Any, *args: str) -> ChsiAnswer:
        try:
            return fn(*args)
        except Unavailable as exc:
            raise ChsiUnavailable(str(exc)) from None
        except Rejected as exc:  # e.g. 400 for a malformed query: a definite "no answer"
            return ChsiAnswer(exc.status or 400, {"error": exc.code, "message": exc.detail})


@contextlib.contextmanager
def connector_gateway(settings: Any, config: Any) -> Iterator[ConnectorGateway]:
    with ChsiClient.from_settings(settings, config) as client:
        yield ConnectorGateway(client)
