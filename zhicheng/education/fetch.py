"""Answers of 学信 for the education sync: reuse, fetch concurrently, keep for audit.

A definite answer (200, 404 no_match or unknown code, 410 expired) is stored as
received in `chsi_answers` and reused while younger than the configured age. Anything
else (the connector gave up after its retries: outage, 5xx, timeouts, 429s beyond its
patience) is "unavailable": nothing is stored and the caller retries on a later run.
The client keeps the rate limit; here only the number of requests in flight is bounded.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhicheng.connectors.in_flight import NOT_SENT, until_outage
from zhicheng.education.models import ChsiAnswer

Key = tuple[str, str]   # ("records", "<id_number>|<name>") or ("report", online_code)
DEFINITE = (200, 404, 410)


class ChsiUnavailable(Exception):
    """学信 gave no definite answer this time; try again on a later run."""


class Gateway(Protocol):
    """What the sync needs of a 学信 client: (status, body) of definite answers only."""

    def education_records(self, id_number: str, name: str) -> tuple[int, dict]: ...

    def verification_report(self, online_code: str) -> tuple[int, dict]: ...


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    answer_id: int | None = None


def records_key(id_number: str, name: str) -> str:
    return f"{id_number}|{name}"


def cached(*, session: Session, keys: Iterable[Key], now: dt.datetime, max_age: dt.timedelta) -> dict[Key, Answer]:
    """The newest stored answer of each key that is young enough."""
    out: dict[Key, Answer] = {}
    by_kind: dict[str, set[str]] = {}
    for kind, key in keys:
        by_kind.setdefault(kind, set()).add(key)
    for kind, lookup_keys in by_kind.items():
        rows = session.scalars(select(ChsiAnswer).where(
            ChsiAnswer.kind == kind, ChsiAnswer.lookup_key.in_(sorted(lookup_keys)),
            ChsiAnswer.fetched_at >= now - max_age).order_by(ChsiAnswer.fetched_at))
        for row in rows:  # oldest first: the newest wins
            out[(kind, row.lookup_key)] = Answer(row.status, row.body, row.id)
    return out


def fetch(gateway: Gateway, *, keys: Iterable[Key], concurrency: int) -> tuple[dict[Key, Answer], bool]:
    """Ask 学信 for each key, at most `concurrency` at a time.

    Returns the definite answers and whether 学信 was unavailable; after the first
    unavailable answer no new request is started (an outage pauses the work).
    """
    todo = list(dict.fromkeys(keys))
    got = until_outage(partial(_ask, gateway), todo, in_flight=concurrency, kept=(ChsiUnavailable,),
                       outage=_unavailable)
    answers = {k: Answer(*answer) for k, answer in zip(todo, got, strict=True)
               if answer is not NOT_SENT and not _unavailable(answer)}
    return answers, any(answer is not NOT_SENT and _unavailable(answer) for answer in got)


def _ask(gateway: Gateway, k: Key) -> tuple[int, dict]:
    kind, key = k
    if kind == "records":
        return gateway.education_records(*key.split("|", 1))
    return gateway.verification_report(key)


def _unavailable(answer: Any) -> bool:
    return isinstance(answer, ChsiUnavailable) or answer[0] not in DEFINITE


def store(*, session: Session, answers: dict[Key, Answer], now: dt.datetime) -> dict[Key, Answer]:
    """Keep the fresh answers for audit; the same answers with their row ids."""
    rows = {k: ChsiAnswer(kind=k[0], lookup_key=k[1][:128], status=ans.status, body=ans.body, fetched_at=now)
            for k, ans in answers.items()}
    session.add_all(rows.values())
    session.flush()   # one flush: the ids come back from multi-row inserts
    return {k: Answer(ans.status, ans.body, rows[k].id) for k, ans in answers.items()}


class ChsiNotConfigured(Exception):
    """ZHICHENG_CHSI_URL / _APP_ID / _APP_SECRET are not all set."""


NOT_CONFIGURED = ("学信 is not configured: set ZHICHENG_CHSI_URL, ZHICHENG_CHSI_APP_ID and ZHICHENG_CHSI_APP_SECRET "
                  "(`zhicheng stand-ins` prints them for the stand-in)")


def chsi_configured(settings: Any) -> bool:
    system = settings.system("chsi")
    return bool(system.url and system.app_id and system.app_secret)


def gateway_from_settings(settings: Any, config: Any) -> Any:
    """A context manager giving the Gateway over the 学信 connector of these settings."""
    if not chsi_configured(settings):
        raise ChsiNotConfigured(NOT_CONFIGURED)
    from zhicheng.education.gateway import connector_gateway
    return connector_gateway(settings, config)
