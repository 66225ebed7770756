"""The inspector's worker subprocess: how it is started, what it may do, how it talks.

The channel. The parent (pdf_inspect.Inspector) and the worker talk over two pipes of
their own, passed to the worker as file descriptors: requests one way, answers the
other. Only this module's code writes on them. The worker's fd 0, 1 and 2 are
/dev/null, so whatever MuPDF (or anything else linked into the worker) prints, at the
C level or through Python, goes nowhere: it can neither corrupt an answer nor block
the worker on a full pipe. Every message is a frame: a 4-byte big-endian length, then
UTF-8 JSON. Each answer echoes its request's id, path and the size of the bytes read;
the parent takes an answer only when all three are the ones it asked about. Anything
else (a frame too long, not JSON, another id, another file, a live worker closing the
pipe) is a `ProtocolFault`: the parent discards that worker.

The sandbox. The worker gets a minimal environment (`ENV`: no ZHICHENG_* secrets, no
proxy, no credentials), runs Python isolated (-I: no PYTHON* variables, no user site,
not the current directory on sys.path) without writing bytecode (-B), in "/", and once
its imports are done it sets HARD limits on itself, before it reads any file:

| limit | soft = hard |
| --- | --- |
| RLIMIT_AS | its size after imports plus `memory_mb` |
| RLIMIT_CPU (hard) | its CPU after imports plus `worker_cpu_seconds`: the worker's lifetime budget |
| RLIMIT_FSIZE, RLIMIT_CORE | 0: it writes no file and dumps no core (memory holds applicants' files) |
| RLIMIT_NPROC | 0: it starts no process or thread |

CPU per file: hard limits cannot be raised again, so the per-file budget is the soft
limit, set before each file to (CPU used + `seconds_per_file`), below the hard one
(SIGXCPU ends the worker: the file gets `time`). Each answer says how much of the
lifetime budget is left (`cpu_left`); when less than a file's budget and a second is
left, the parent retires the worker after that answer and starts a fresh one, so the
hard limit only ever ends a worker that ignored SIGXCPU. The parent also keeps a wall
clock per file (it covers a worker that waits rather than computes).
"""
from __future__ import annotations

import json
import math
import os
import select
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zhicheng.files.pdf_inspect import InspectLimits

MAX_FRAME = 16 << 20     # an answer holds at most pdf_inspect.TEXT_LIMIT characters of text
ENTRY = ("-m", __name__)  # what the worker runs (tests start their own misbehaving ones)
# everything the worker's environment holds: Python needs none of it, MuPDF and
# Pillow read no variable; a locale keeps anything that asks for one on UTF-8
ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}


class ProtocolFault(Exception):
    """The worker's answer is not a sound answer to the request asked."""


class Died(Exception):
    """The answer pipe closed, or the worker ended, before an answer."""


# -- frames --------------------------------------------------------------------------------------

def send(fd: int, message: dict[str, Any]) -> None:
    body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
    view = memoryview(len(body).to_bytes(4, "big") + body)
    while view:
        view = view[os.write(fd, view):]


def receive(fd: int, *, deadline: float | None = None, poller: Any = None) -> dict[str, Any]:
    """One frame from `fd`. Died: EOF, or the worker ended with nothing more to read (a
    `poller` of fd and the worker's pidfd); TimeoutError past `deadline`
    (time.monotonic); ProtocolFault: not a frame of a JSON object."""
    size = int.from_bytes(_read(fd, 4, deadline, poller), "big")
    if size > MAX_FRAME:
        raise ProtocolFault(f"frame of {size} bytes")
    try:
        message = json.loads(_read(fd, size, deadline, poller))
    except ValueError as exc:   # not UTF-8, not JSON
        raise ProtocolFault(f"not JSON: {exc}") from None
    if not isinstance(message, dict):
        raise ProtocolFault("not a JSON object")
    return message


def _read(fd: int, n: int, deadline: float | None, poller: Any) -> bytes:
    """Exactly n bytes (never more: what follows is the next frame's)."""
    out = bytearray()
    while len(out) < n:
        if poller is not None:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise TimeoutError
            ready = {ready_fd for ready_fd, _ in poller.poll(None if left is None else math.ceil(left * 1000))}
            if not ready:
                continue
            if fd not in ready:   # only the pidfd: the worker ended and left nothing to read
                raise Died
        chunk = os.read(fd, min(n - len(out), 1 << 20))
        if not chunk:
            raise Died
        out += chunk
    return bytes(out)


# -- the parent's side ---------------------------------------------------------------------------

class Worker:
    """One running worker: its process and the parent's two ends of the channel."""

    def __init__(self, limits: InspectLimits, entry: Sequence[str] = ENTRY) -> None:
        requests_r, requests_w = os.pipe()
        answers_r, answers_w = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-B", *entry, json.dumps(asdict(limits)), str(requests_r), str(answers_w)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                pass_fds=(requests_r, answers_w), env=ENV, cwd="/")
        except BaseException:
            os.close(requests_w)
            os.close(answers_r)
            raise
        finally:   # the worker's ends are held by it alone, so EOF means it is gone
            os.close(requests_r)
            os.close(answers_w)
        self._fds: dict[str, int | None] = {"requests": requests_w, "answers": answers_r,
                                            "pidfd": _pidfd(self.proc.pid)}
        self._poller = select.poll()   # not select(): a busy process may hold fds past FD_SETSIZE
        for fd in (answers_r, self._fds["pidfd"]):
            if fd is not None:
                self._poller.register(fd, select.POLLIN)
        self.cpu_left = math.inf   # of its lifetime CPU budget, as its last answer said

    @property
    def pid(self) -> int:
        return self.proc.pid

    def ask(self, job: dict[str, Any], *, timeout: float) -> dict[str, Any]:
        requests, answers = self._fds["requests"], self._fds["answers"]
        if requests is None or answers is None:   # ended: its pipes are closed
            raise Died
        send(requests, job)
        answer = receive(answers, deadline=time.monotonic() + timeout, poller=self._poller)
        left = answer.get("cpu_left")
        self.cpu_left = float(left) if isinstance(left, (int, float)) else 0.0
        return answer

    def stop(self) -> None:
        """Ask the worker to end (it does at EOF on its requests); killed if it lingers."""
        self._close("requests")
        self.end(grace=5)

    def end(self, *, grace: float = 0) -> int | None:
        """End the worker: its exit code if it exits within `grace` seconds, else it is
        killed and the answer is None (it was alive: a worker that broke the protocol)."""
        try:
            code = self.proc.wait(timeout=grace) if grace else self.proc.poll()
        except subprocess.TimeoutExpired:
            code = None
        if code is None:
            self.proc.kill()
            self.proc.wait()
        self._close("requests", "answers", "pidfd")
        return code

    def _close(self, *names: str) -> None:
        for name in names:
            fd, self._fds[name] = self._fds[name], None
            if fd is not None:
                os.close(fd)


def _pidfd(pid: int) -> int | None:
    """A descriptor that becomes readable when the worker ends (Linux >= 5.3): a write
    end of the answer pipe inherited by some forked process cannot then hide its death."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


# -- the worker's side ---------------------------------------------------------------------------

def _harden(limits: InspectLimits) -> None:
    """Hard limits on this process, after its imports (see the module docstring)."""
    import resource
    with open("/proc/self/status") as fh:
        vm = next((int(line.split()[1]) * 1024 for line in fh if line.startswith("VmSize:")), 0)
    memory = vm + limits.memory_mb * 1024 * 1024
    cpu = math.ceil(_cpu_used() + max(limits.worker_cpu_seconds, limits.seconds_per_file + 2))
    for which, value in ((resource.RLIMIT_AS, memory), (resource.RLIMIT_CPU, cpu),
                         (resource.RLIMIT_FSIZE, 0), (resource.RLIMIT_CORE, 0), (resource.RLIMIT_NPROC, 0)):
        resource.setrlimit(which, (value, value))


def _cpu_used() -> float:
    import resource
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


def _file_budget(seconds: float) -> None:
    """Allow this many more CPU seconds for the next file (below the hard limit)."""
    import resource
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    resource.setrlimit(resource.RLIMIT_CPU, (min(math.ceil(_cpu_used() + seconds), hard), hard))


def _cpu_left() -> float:
    import resource
    return round(resource.getrlimit(resource.RLIMIT_CPU)[1] - _cpu_used(), 3)


def handle(job: dict[str, Any], limits: InspectLimits) -> dict[str, Any]:
    """The answer to one request, without the id (read the file, inspect it or read its text)."""
    from zhicheng.files import pdf_inspect
    data = Path(job["path"]).read_bytes()
    if job.get("text"):
        return {"size": len(data), "text": pdf_inspect.text_of(data, limits)}
    return {"size": len(data),
            "inspection": pdf_inspect.inspect_bytes(data, photo=job["photo"], limits=limits).as_dict()}


def main(argv: Sequence[str]) -> None:
    """argv: the limits (JSON), the request pipe's fd, the answer pipe's fd."""
    # PyMuPDF imports its optional layout analyser and pymupdf4llm when installed (ONNX
    # runtime, which opens a database under ~/.cache): half a second and a hundred MB per
    # worker for nothing inspection uses; None in sys.modules skips them.
    sys.modules.setdefault("pymupdf.layout", None)  # type: ignore[arg-type]  # None: see above
    sys.modules.setdefault("pymupdf4llm", None)  # type: ignore[arg-type]
    import pymupdf
    import pypdf  # noqa: F401 - imported before the memory cap is measured
    from PIL import Image

    from zhicheng.files.pdf_inspect import InspectLimits
    limits = InspectLimits(**json.loads(argv[0]))
    requests, answers = int(argv[1]), int(argv[2])
    pymupdf.TOOLS.mupdf_display_errors(False)
    pymupdf.TOOLS.mupdf_display_warnings(False)
    Image.MAX_IMAGE_PIXELS = limits.max_image_pixels
    _harden(limits)
    while True:
        try:
            job = receive(requests)
        except Died:   # the parent closed the channel: done
            return
        _file_budget(limits.seconds_per_file)
        answer = handle(job, limits)
        send(answers, {**answer, "id": job["id"], "path": job["path"], "cpu_left": _cpu_left()})


if __name__ == "__main__":
    main(sys.argv[1:])
