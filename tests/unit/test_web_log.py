"""The web service's log handler: the lines of one turn of the event loop reach the
stream together, each whole and in order; off the loop at once."""
from __future__ import annotations

import asyncio
import logging

from zhicheng.web.server import TurnLogHandler


class _Stream:
    def __init__(self) -> None:
        self.writes: list[str] = []

    def write(self, text: str) -> None:
        self.writes.append(text)

    def flush(self) -> None:
        pass


def _logger(stream: _Stream) -> tuple[logging.Logger, TurnLogHandler]:
    handler = TurnLogHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    log = logging.getLogger("zhicheng.test_web_log")
    log.handlers[:] = [handler]
    log.setLevel(logging.INFO)
    log.propagate = False
    return log, handler


def test_a_turns_lines_go_out_in_one_write_after_the_turn():
    stream = _Stream()
    log, _ = _logger(stream)

    async def serve():
        for status in (200, 404, 429):
            log.info("GET /api/v1/verifications %d", status)
        during = list(stream.writes)
        await asyncio.sleep(0)  # the turn ends
        log.info("GET /verify 200")
        await asyncio.sleep(0)
        return during

    assert asyncio.run(serve()) == []
    assert stream.writes == ["zhicheng.test_web_log GET /api/v1/verifications 200\n"
                             "zhicheng.test_web_log GET /api/v1/verifications 404\n"
                             "zhicheng.test_web_log GET /api/v1/verifications 429\n",
                             "zhicheng.test_web_log GET /verify 200\n"]


def test_off_the_loop_lines_are_written_at_once_and_a_loops_by_its_end():
    stream = _Stream()
    log, handler = _logger(stream)
    log.info("started")
    assert stream.writes == ["zhicheng.test_web_log started\n"]

    async def last_turn():
        log.info("stopping")

    for _ in range(2):  # one loop after another: each writes its own
        asyncio.run(last_turn())
        assert stream.writes[-1] == "zhicheng.test_web_log stopping\n"
    assert len(stream.writes) == 3
