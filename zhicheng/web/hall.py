"""The hall's downloads (领取): the certificate PDF, a page-1 preview image and the 申报表,
for the hall to pass on to the applicant it has signed in.

Each request is signed as external-systems.md "Common: request signing" says, with the
app id and secret the hall and the back office share (ZHICHENG_HALL_APP_ID,
ZHICHENG_HALL_APP_SECRET): 401 bad_signature / stale_timestamp, 409 nonce_reused (kept
in the database, so every worker refuses a reuse), 404 for what is not there. The path
signed is the one the hall sent: config/web.yaml's downloads_url path (behind a proxy
that maps it) or the path as it arrives here.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import Application, ApplicationRevision, RequestNonce
from zhicheng.domain.signing import NONCE_MEMORY_SECONDS, check_request
from zhicheng.issuance.models import Certificate
from zhicheng.web.context import WebContext

MOUNT = "/hall/api/v1"


def _error(status: int, error: str, message: str) -> JSONResponse:
    return JSONResponse({"error": error, "message": message}, status_code=status)


def _refusal(ctx: WebContext, request: Request) -> JSONResponse | None:
    s = ctx.app.settings
    if not s.hall_app_id or not s.hall_app_secret:
        return _error(401, "bad_signature", "the hall's credentials are not configured here")
    secrets = {s.hall_app_id: s.hall_app_secret.get_secret_value()}
    raw = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string") or b""
    path = raw.decode("latin-1")
    sent = [path]
    if path.startswith(MOUNT) and ctx.downloads_prefix and ctx.downloads_prefix != MOUNT:
        sent.insert(0, ctx.downloads_prefix + path[len(MOUNT):])
    now = ctx.now_unix()
    refusal = None
    for p in sent:
        target = p + ("?" + query.decode("latin-1") if query else "")
        refusal = check_request(request.headers, secrets, request.method, target, b"", now)
        if refusal is None:
            break
    if refusal is not None:
        return _error(refusal.status, refusal.error, refusal.message)
    if not _first_use(ctx, request.headers["X-App-Id"], request.headers["X-Nonce"]):
        return _error(409, "nonce_reused", "this nonce was used within the last 10 minutes")
    return None


def _first_use(ctx: WebContext, app_id: str, nonce: str) -> bool:
    now = ctx.app.clock.now()
    try:
        with unit_of_work(ctx.app.sessions) as session:
            session.execute(delete(RequestNonce).where(
                RequestNonce.seen_at < now - dt.timedelta(seconds=NONCE_MEMORY_SECONDS)))
            session.add(RequestNonce(app_id=app_id, nonce=nonce, seen_at=now))
    except IntegrityError:
        return False
    return True


def _certificate_file(ctx: WebContext, number: str) -> bytes | None:
    with ctx.app.sessions() as session:
        path = session.scalar(select(Certificate.document_path)
                              .where(Certificate.certificate_no == number.strip().upper()))
    if not path:
        return None
    p = Path(path)
    try:
        return (p if p.is_absolute() else ctx.app.settings.home / p).read_bytes()
    except OSError:
        return None


def _preview(data: bytes) -> bytes:
    import pymupdf as fitz
    with fitz.open(stream=data, filetype="pdf") as doc:
        return doc[0].get_pixmap(dpi=110).tobytes("png")


def _form(ctx: WebContext, submission_id: str) -> tuple[bytes, int] | None:
    from zhicheng.intake.application_form import application_form_pdf
    with ctx.app.sessions() as session:
        app = session.scalar(select(Application).where(Application.submission_id == submission_id))
        if app is None:
            return None
        rev = session.scalar(select(ApplicationRevision).where(
            ApplicationRevision.application_id == app.id,
            ApplicationRevision.revision == app.current_revision))
        if rev is None:
            return None
        payload, revision = rev.payload, rev.revision
    return application_form_pdf(payload, submission_id=submission_id, revision=revision), revision


async def _signed_certificate(request: Request) -> bytes | Response:
    """The certificate's PDF for a signed request, or the answer refusing it."""
    ctx: WebContext = request.app.state.ctx
    refused = await run_in_threadpool(_refusal, ctx, request)
    if refused:
        return refused
    data = await run_in_threadpool(_certificate_file, ctx, request.path_params["number"])
    if data is None:
        return _error(404, "not_found", "no issued certificate document with this number")
    return data


async def certificate_document(request: Request) -> Response:
    data = await _signed_certificate(request)
    if isinstance(data, Response):
        return data
    number = request.path_params["number"]
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{number.upper()}.pdf"', "Cache-Control": "no-store"})


async def certificate_preview(request: Request) -> Response:
    data = await _signed_certificate(request)
    if isinstance(data, Response):
        return data
    png = await run_in_threadpool(_preview, data)
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


async def application_form(request: Request) -> Response:
    ctx: WebContext = request.app.state.ctx
    refused = await run_in_threadpool(_refusal, ctx, request)
    if refused:
        return refused
    sid = request.path_params["submission_id"]
    made = await run_in_threadpool(_form, ctx, sid)
    if made is None:
        return _error(404, "not_found", "no application with this submission id")
    data, revision = made
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": attachment(f"{sid}-r{revision}.pdf"), "Cache-Control": "no-store"})


def attachment(name: str) -> str:
    """A Content-Disposition for any file name (RFC 6266: an ASCII fallback, then UTF-8)."""
    from urllib.parse import quote
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
