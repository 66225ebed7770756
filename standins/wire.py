"""One request through a stand-in: read, route, authenticate, fault, handle, answer.

The order matters and is documented in docs/stand-ins.md: a bad signature is always
refused (faults never hide it), "before" faults leave the state untouched, "after"
faults happen once the request has been applied.
"""
from __future__ import annotations

import json
import time
from typing import Any

from zhicheng.standins.server import HttpError, Request, Response, parse_target

HTML_PAGE = (b"<html><head><title>502 Bad Gateway</title></head><body><center>"
             b"<h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>")


def serve_one(h: Any) -> None:
    server = h.standin
    length = int(h.headers.get("Content-Length") or 0)
    body = h.rfile.read(length) if length else b""
    path, query = parse_target(h.path)
    req = Request(method=h.command, target=h.path, path=path, query=query, headers=h.headers, body=body)
    endpoint = "unrouted"
    try:
        route, req.params = server.find(req.method, path)
        endpoint = route.endpoint
        if route.admin:
            return _send(h, route.handler(req))
        with server.serving(endpoint):
            answer = _answer(h, server, route, req, endpoint)
        if answer is None:
            return
        resp = answer
    except HttpError as exc:
        resp = Response(status=exc.status, body={"error": exc.error, "message": exc.message},
                        headers=exc.headers)
    except Exception as exc:  # a stand-in bug must still answer in the contract's shape
        resp = Response(status=500, body={"error": "internal", "message": f"{type(exc).__name__}: {exc}"})
    if endpoint != "admin":
        server.count(endpoint, resp.status)
    _send(h, resp)


def _answer(h: Any, server: Any, route: Any, req: Request, endpoint: str) -> Response | None:
    """The handler's answer, or None when a fault already answered (or dropped) it."""
    server.authenticate(req)
    server.before(req, route)
    d = req.decision = server.faults.decide(endpoint)
    if d is not None and _fault_before(h, server, endpoint, d):
        return None
    resp = route.handler(req)
    if d is not None and _fault_after(h, server, endpoint, d, resp):
        return None
    return resp


def _fault_before(h: Any, server: Any, endpoint: str, d: Any) -> bool:
    """Faults that answer instead of the handler; True when the request is done."""
    if d.delay:
        time.sleep(d.delay)
    if d.drop_before:
        server.count(endpoint, "dropped_before")
        h.drop()
        return True
    if d.throttle is not None:
        server.count(endpoint, 429)
        _send(h, Response(429, {"error": "rate_limited", "message": "too many requests (fault)"},
                          {"Retry-After": str(d.throttle)}))
        return True
    if d.error_status is not None:
        server.count(endpoint, d.error_status)
        _send(h, Response(d.error_status, {"error": "unavailable", "message": "injected fault"}))
        return True
    if d.non_json_status is not None:
        server.count(endpoint, f"non_json_{d.non_json_status}")
        _send(h, Response(d.non_json_status, HTML_PAGE, content_type="text/html"))
        return True
    return False


def _fault_after(h: Any, server: Any, endpoint: str, d: Any, resp: Response) -> bool:
    """Faults once the handler has applied the request."""
    if d.drop_after:
        server.count(endpoint, "dropped_after")
        h.drop()
        return True
    if d.truncate:
        server.count(endpoint, "truncated")
        data = _encode(resp)
        _head(h, resp, len(data))
        h.wfile.write(data[: len(data) // 2])
        h.wfile.flush()
        h.drop()
        return True
    if d.oversize:
        server.count(endpoint, "oversized")
        _stream_oversized(h, d.oversize, d.oversize_length)
        h.drop()
        return True
    if d.nested:
        server.count(endpoint, "nested")
        resp.status, resp.body = 200, b"[" * d.nested + b"]" * d.nested
        resp.content_type = "application/json; charset=utf-8"
        return False
    if d.malformed and not isinstance(resp.body, bytes):
        server.count(endpoint, "malformed")
        resp.body = _malform(resp.body)
    return False


def _stream_oversized(h: Any, size: int, with_length: bool) -> None:
    """`size` bytes (a PDF header, then zeros) written as they go, never held: with
    its Content-Length, or without one, the end marked by closing the connection."""
    h.send_response(200)
    h.send_header("Content-Type", "application/pdf")
    if with_length:
        h.send_header("Content-Length", str(size))
    else:
        h.send_header("Connection", "close")
        h.close_connection = True
    h.end_headers()
    chunk, left = bytes(64 * 1024), size
    try:
        head = b"%PDF-1.4\n"[:left]
        h.wfile.write(head)
        left -= len(head)
        while left > 0:
            h.wfile.write(chunk if left >= len(chunk) else chunk[:left])
            left -= len(chunk)
        h.wfile.flush()
    except OSError:
        pass   # the client stopped reading (reset, broken pipe, timeout), as it should


def _malform(body: Any) -> Any:
    """Valid JSON of the wrong shape: every top-level value of the wrong type."""
    if isinstance(body, dict):
        return {k: ("?" if not isinstance(v, str) else 12345) for k, v in body.items()}
    return {"unexpected": body}


def _encode(resp: Response) -> bytes:
    if isinstance(resp.body, bytes):
        return resp.body
    return json.dumps(resp.body, ensure_ascii=False).encode("utf-8")


def _head(h: Any, resp: Response, length: int) -> None:
    h.send_response(resp.status)
    h.send_header("Content-Type", resp.content_type)
    h.send_header("Content-Length", str(length))
    for k, v in resp.headers.items():
        h.send_header(k, v)
    h.end_headers()


def _send(h: Any, resp: Response) -> None:
    data = _encode(resp)
    try:
        _head(h, resp, len(data))
        if h.command != "HEAD":
            h.wfile.write(data)
    except (BrokenPipeError, ConnectionResetError):
        h.close_connection = True
