"""Calling one remote system several requests at a time, until it stops answering.

The hall's push and the 学信 sync both send many small requests with no batch form in
the contract: one after another, every item waits out the network and the far side in
turn. A few at once hide that wait; once the system stops answering, starting more
requests only adds load to an outage, so none starts after the first one. Those already
in flight finish and their answers are kept.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

Item = TypeVar("Item")

NOT_SENT: Any = object()   # the system had stopped answering before this item's turn


def until_outage(call: Callable[[Item], Any], items: Sequence[Item], *, in_flight: int,
                 kept: tuple[type[Exception], ...], outage: Callable[[Any], bool]) -> list[Any]:
    """Each item's answer, in the items' order: what `call` returned, the exception of
    `kept` it raised, or NOT_SENT once an earlier answer was an `outage`.

    Any other exception (a misconfigured client, a bug) stops the rest and is raised.
    """
    stop = threading.Event()

    def one(item: Item) -> Any:
        if stop.is_set():
            return NOT_SENT
        try:
            answer = call(item)
        except kept as exc:
            answer = exc
        except BaseException:
            stop.set()
            raise
        if outage(answer):
            stop.set()
        return answer

    if in_flight <= 1 or len(items) <= 1:
        return [one(item) for item in items]
    with ThreadPoolExecutor(min(in_flight, len(items)), thread_name_prefix="in-flight") as pool:
        return list(pool.map(one, items))
