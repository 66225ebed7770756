"""The shared core of the stand-in servers: routing, request signing, faults, admin.

Each stand-in (hall, chsi, province) subclasses `StandIn`, declares its routes and keeps
its state in its own SQLite file. Contract endpoints are signed and can be faulted;
`/_admin/...` endpoints are for tests and the demo on loopback: unsigned, never faulted.
"""
from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self, overload
from urllib.parse import parse_qs, unquote, urlsplit

from zhicheng.domain.signing import NONCE_MEMORY_SECONDS, check_request
from zhicheng.standins.faults import Decision, FaultBoard
from zhicheng.standins.nonces import NonceMemory
from zhicheng.standins.store import Store


class HttpError(Exception):
    """Answered as `{"error", "message"}` with the status."""

    def __init__(self, status: int, error: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.error, self.message = status, error, message
        self.headers = headers or {}


@dataclass
class Request:
    method: str
    target: str                       # path?query exactly as on the request line
    path: str
    query: dict[str, list[str]]
    headers: Any
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    app_id: str | None = None
    decision: Decision | None = None

    @overload
    def arg(self, name: str, default: str) -> str: ...
    @overload
    def arg(self, name: str, default: None = None) -> str | None: ...

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise HttpError(400, "bad_json", f"the body is not UTF-8 JSON: {exc}") from None


@dataclass
class Response:
    status: int = 200
    body: Any = None                  # JSON-able, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern
    endpoint: str                     # the name faults and stats use
    handler: Handler
    admin: bool = False


class StandIn:
    """One stand-in server on 127.0.0.1; `start()` serves it from a background thread."""

    name = "standin"

    def __init__(self, *, state_path, secrets: dict[str, str], seed: int = 0,
                 clock: Callable[[], float] = time.time, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.secrets = dict(secrets)
        self.clock = clock
        self.store = Store(state_path, self.schema())
        self.faults = FaultBoard(seed)
        self.routes: list[Route] = []
        self._nonces = NonceMemory(NONCE_MEMORY_SECONDS)
        self._nonce_lock = threading.Lock()
        self._stats_lock = threading.Lock()
        self.stats: dict[str, dict[str, int]] = {}
        self._in_flight: dict[str, int] = {}
        self.peak_in_flight: dict[str, int] = {}   # the most requests an endpoint worked on at once
        self._host, self._port = host, port
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._admin_routes()
        self.add_routes()

    # -- what subclasses provide ------------------------------------------------------
    def schema(self) -> str:
        return ""

    def add_routes(self) -> None:
        raise NotImplementedError

    def route(self, method: str, pattern: str, endpoint: str, handler: Handler,
              admin: bool = False) -> None:
        self.routes.append(Route(method, re.compile(f"^{pattern}$"), endpoint, handler, admin))

    # -- life -------------------------------------------------------------------------
    def start(self) -> Self:
        self._httpd = _Server((self._host, self._port), _make_handler(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=f"standin-{self.name}",
                                        kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        assert self._httpd is not None, "start() the server first"
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        self.store.close()

    def __enter__(self) -> StandIn:
        return self if self._httpd else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the request pipeline ---------------------------------------------------------
    def find(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        allowed = False
        for r in self.routes:
            m = r.pattern.match(path)
            if m:
                if r.method == method:
                    return r, {k: unquote(v) for k, v in m.groupdict().items()}
                allowed = True
        if allowed:
            raise HttpError(405, "method_not_allowed", f"{method} is not allowed on {path}")
        raise HttpError(404, "not_found", f"no such endpoint: {path}")

    def authenticate(self, req: Request) -> None:
        """The contract's signature, timestamp and nonce checks."""
        now = self.clock()
        refusal = check_request(req.headers, self.secrets, req.method, req.target, req.body, now)
        if refusal is not None:
            raise HttpError(refusal.status, refusal.error, refusal.message)
        req.app_id = req.headers.get("X-App-Id")
        key = (req.app_id, req.headers.get("X-Nonce"))
        with self._nonce_lock:
            if not self._nonces.first_use(key, now):
                raise HttpError(409, "nonce_reused", "this nonce was used within the last 10 minutes")

    def before(self, req: Request, route: Route) -> None:
        """A hook after authentication, before faults (the 学信 rate limit)."""

    @contextmanager
    def serving(self, endpoint: str) -> Iterator[None]:
        """One request of `endpoint` in progress (its faults' delays included)."""
        with self._stats_lock:
            now = self._in_flight[endpoint] = self._in_flight.get(endpoint, 0) + 1
            self.peak_in_flight[endpoint] = max(now, self.peak_in_flight.get(endpoint, 0))
        try:
            yield
        finally:
            with self._stats_lock:
                self._in_flight[endpoint] -= 1

    def count(self, endpoint: str, status: int | str) -> None:
        with self._stats_lock:
            per = self.stats.setdefault(endpoint, {})
            per[str(status)] = per.get(str(status), 0) + 1

    # -- admin endpoints shared by all stand-ins --------------------------------------
    def _admin_routes(self) -> None:
        self.route("GET", "/_admin/faults", "admin", lambda r: Response(body=self.faults.snapshot()), True)
        self.route("POST", "/_admin/faults", "admin", self._admin_set_faults, True)
        self.route("GET", "/_admin/stats", "admin", lambda r: Response(body=self.stats), True)
        self.route("GET", "/_admin/health", "admin", lambda r: Response(body={"ok": True}), True)

    def _admin_set_faults(self, req: Request) -> Response:
        """`{"endpoint": "returns", "faults": {...}}`; `{"clear": true}` or an empty faults
        object switches them off; `{"seed": 7}` reseeds."""
        doc = req.json()
        if not isinstance(doc, dict):
            raise HttpError(400, "bad_request", "expected a JSON object")
        if "seed" in doc:
            self.faults.reseed(int(doc["seed"]))
        endpoint = doc.get("endpoint", "*")
        try:
            if doc.get("clear") or doc.get("faults") == {}:
                self.faults.clear(None if doc.get("clear") and "endpoint" not in doc else endpoint)
            elif "faults" in doc:
                self.faults.set(endpoint, **doc["faults"])
        except (TypeError, ValueError) as exc:
            raise HttpError(422, "bad_faults", str(exc)) from None
        return Response(body=self.faults.snapshot())


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def _make_handler(server: StandIn) -> type[BaseHTTPRequestHandler]:
    from zhicheng.standins.wire import serve_one

    class _H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 30
        standin = server

        def setup(self) -> None:
            super().setup()
            # headers and body go out in two writes: without this, delayed ACKs cost 40 ms
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _go(self) -> None:
            serve_one(self)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _go

        def log_message(self, format: str, *args: Any) -> None:  # quiet in tests
            pass

        def drop(self) -> None:
            """Close the connection without a word."""
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    return _H


def parse_target(target: str) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(target)
    return parts.path, parse_qs(parts.query, keep_blank_values=True)
