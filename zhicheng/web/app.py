"""The Starlette application of `zhicheng web`: routes, security headers, and an access
log that holds no personal data (method, route, status, time; never the query)."""
from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from zhicheng.bootstrap import App
from zhicheng.web import hall, public, staff
from zhicheng.web.context import WebContext

log = logging.getLogger("zhicheng.web")
CSS = (Path(__file__).parent / "templates" / "site.css").read_bytes()
HEADERS = {
    # no script at all, styles only from here: nothing from public CDNs (offline networks)
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # the QR code's address carries the number and code: never pass it on to another site
    "Referrer-Policy": "no-referrer",
}

_RAW_HEADERS = [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()]
_STAFF_HEADERS = [*_RAW_HEADERS, (b"cache-control", b"no-store")]
_NAMES = frozenset(k for k, _ in _STAFF_HEADERS)


async def _css(request: Request) -> Response:
    return Response(CSS, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})


async def _health(request: Request) -> Response:
    return Response("ok", media_type="text/plain")


async def _home(request: Request) -> Response:
    return RedirectResponse("/verify", status_code=303)


def from_environment() -> "_Headers":
    """The application of one `zhicheng web` worker process (zhicheng.web.server)."""
    from zhicheng.bootstrap import app_at
    # what no line of this process's log shows (its formats name no caller, thread or
    # process): not looked up for each record, as the logging docs' "Optimization" says
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    return create_app(app_at())


def create_app(app: App, *, session_secret: str | None = None) -> "_Headers":
    ctx = WebContext.build(app, session_secret=session_secret)
    ctx.templates.env.filters["local_time"] = staff.local_time
    ctx.templates.env.filters["segment"] = lambda v: quote(str(v), safe="")  # one path segment
    routes = [  # tried in order: the verifications (a QR scan, the API) first
        Route("/api/v1/verifications", public.api_verify, methods=["GET"]),
        Route("/verify", public.verify_page, methods=["GET"]),
        Route("/", _home),
        Route("/healthz", _health),
        Route("/static/site.css", _css),
        Route("/verify", public.verify_form, methods=["POST"]),
        Route("/verify/file", public.upload_page, methods=["POST"]),
        Route("/api/v1/verifications", public.api_verify_document, methods=["POST"]),
        Route(hall.MOUNT + "/certificates/{number}/document", hall.certificate_document),
        Route(hall.MOUNT + "/certificates/{number}/preview", hall.certificate_preview),
        Route(hall.MOUNT + "/applications/{submission_id}/form", hall.application_form),
        Route("/staff/login", staff.login_page, methods=["GET"]),
        Route("/staff/login", staff.login, methods=["POST"]),
        Route("/staff/logout", staff.logout, methods=["POST"]),
        Route("/staff/search", staff.search_page, methods=["GET"]),
        Route("/staff/search", staff.search, methods=["POST"]),
        Route("/staff/applications", staff.application_lookup),
        Route("/staff/applications/{submission_id}", staff.application_page),
    ]
    @contextlib.asynccontextmanager
    async def lifespan(_):
        yield
        await ctx.reader.close()

    web = Starlette(routes=routes, lifespan=lifespan)
    web.state.ctx = ctx
    return _Headers(web)


class _Headers:
    """Pure ASGI (not BaseHTTPMiddleware, which costs a task a request): adds the
    security headers and writes one access-log line a response."""

    def __init__(self, inner: Starlette) -> None:
        self.inner = inner
        self.state = inner.state

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.inner(scope, receive, send)
        started = time.perf_counter()
        extra = _STAFF_HEADERS if scope["path"].startswith("/staff") else _RAW_HEADERS
        status = [0]

        async def sending(message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                given = message.get("headers", [])
                have = {k.lower() for k, _ in given}
                # a response's own header wins (e.g. the staff pages' cache-control)
                message["headers"] = [*given, *extra] if have.isdisjoint(_NAMES) else \
                    [*given, *(h for h in extra if h[0] not in have)]
            await send(message)

        await self.inner(scope, receive, sending)
        route = scope.get("route")
        if log.isEnabledFor(logging.INFO):
            log.info("%s %s %d %.1fms", scope["method"], getattr(route, "path", "-"), status[0],
                     (time.perf_counter() - started) * 1000)
