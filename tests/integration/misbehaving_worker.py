"""An inspector worker that misbehaves on purpose, run by tests in place of the real one
(`inspector(mode)`: an Inspector whose workers are this file); otherwise it is the real
worker.

- `noisy`: around every file, writes junk to its real fd 1 and fd 2, through the OS,
  through C stdio (as MuPDF does) and through Python; among the junk, an answer-shaped
  frame and more than a pipe buffer holds.
- `faulty`: answers files by their name (or a `%misbehave:<name>` line in them): `garbage*` with bytes
  that are no frame, `notjson*` with a frame that is not JSON, `stale*` with the previous request's id,
  `other*` with the answer of another file (size), `twice*` with its answer and then a
  second copy (which lies in wait for the next request), `hangup*` by closing the answer
  pipe and staying alive, `partial*` with half a frame before dying.
- `spent`: says in every answer that its CPU budget is spent.
"""
from __future__ import annotations

import ctypes
import json
import os
import sys
from pathlib import Path

from zhicheng.files import inspect_worker
from zhicheng.files.pdf_inspect import InspectLimits, Inspector

def inspector(mode: str, limits: InspectLimits | None = None) -> Inspector:
    """An Inspector whose workers are this program in `mode` (for tests)."""
    ins = Inspector(limits or InspectLimits())
    ins.entry = (__file__, mode)
    return ins


JUNK = b"Director error: <class 'MemoryError'>\n"
FAKE = b'\x00\x00\x00\x2a{"id": 1, "size": 1, "inspection": {}}\n'


def noisy() -> None:
    libc = ctypes.CDLL(None)
    handle = inspect_worker.handle

    def shout() -> None:
        os.write(1, JUNK + FAKE)
        os.write(2, JUNK + FAKE)
        libc.printf(b"warning: %s\n", b"MuPDF says so on stdout")
        libc.fflush(None)
        print("and Python too", flush=True)
        os.write(1, b"x" * (1 << 20))   # more than a pipe holds: nobody must have to read it

    def noisy_handle(job, limits):
        shout()
        answer = handle(job, limits)
        shout()
        return answer
    inspect_worker.handle = noisy_handle


def _mode(path: Path) -> str:
    """The file's name, or the mode a stored (content-addressed) file asks for in a
    `%misbehave:<mode>` line."""
    _, found, tail = path.read_bytes().rpartition(b"%misbehave:")
    return tail.split(b"\n")[0].decode() if found else path.name


def faulty() -> None:
    send = inspect_worker.send

    def faulty_send(fd: int, message: dict) -> None:
        name = _mode(Path(message["path"]))
        if name.startswith("garbage"):
            os.write(fd, JUNK)
        elif name.startswith("notjson"):
            os.write(fd, (5).to_bytes(4, "big") + b"{nope")
        elif name.startswith("stale"):
            send(fd, {**message, "id": message["id"] - 1})
        elif name.startswith("other"):
            send(fd, {**message, "size": message["size"] + 1})
        elif name.startswith("twice"):
            send(fd, message)
            send(fd, message)
        elif name.startswith("hangup"):
            os.close(fd)
            os.read(int(sys.argv[-2]), 1)   # alive, until the parent gives up on it
        elif name.startswith("partial"):
            body = json.dumps(message).encode()
            os.write(fd, len(body).to_bytes(4, "big") + body[: len(body) // 2])
            os._exit(3)
        else:
            send(fd, message)
    inspect_worker.send = faulty_send


def spent() -> None:
    inspect_worker._cpu_left = lambda: 0.0


if __name__ == "__main__":
    {"noisy": noisy, "faulty": faulty, "spent": spent}[sys.argv[1]]()
    inspect_worker.main(sys.argv[2:])
