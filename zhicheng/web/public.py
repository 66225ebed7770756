"""Public verification: the QR code's page, typed number and code, an uploaded PDF, and
the JSON API for third parties (docs/verification.md).

An unknown number and a wrong code get the same answer. Wrong answers count against the
client and against the number (domain.verification.GuessLimiter): beyond the free ones
each costs a doubling wait, answered 429 with Retry-After. The holder's name is shown
masked, the ID number never; nothing personal goes to the logs.
"""
from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import parse_qsl

import orjson
from sqlalchemy import String, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from zhicheng.clock import local_date
from zhicheng.domain.certificate_numbers import normalize_code, number_problem
from zhicheng.domain.privacy import mask_name
from zhicheng.domain.verification import status_view
from zhicheng.issuance.keys import KeyStore
from zhicheng.issuance.models import Certificate
from zhicheng.issuance.verify import Verdict, verify_document
from zhicheng.web.context import WebContext, client_of


class _JSON(JSONResponse):
    """The JSON API's answers, written by orjson (UTF-8, compact, as Starlette's are)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


NO_MATCH = "证书编号或验证码不正确，请核对后重新输入。"

PUBLIC_COLUMNS = ("certificate_no", "verification_code", "status", "holder_name", "qualification_name",
                  "level", "series", "specialty", "obtained_by", "issuer", "issued_on", "approved_on",
                  "revoked_at")
_CERTS = Certificate.__table__
# built once: a QR scan costs one indexed read, without building its statement again
BY_NUMBER = select(*(_CERTS.c[c] for c in PUBLIC_COLUMNS)).where(_CERTS.c.certificate_no == bindparam("no"))
# on PostgreSQL the scans that arrive together, in one statement (web.reads.Reader.first_by)
BY_NUMBERS = select(*(_CERTS.c[c] for c in PUBLIC_COLUMNS)).where(
    _CERTS.c.certificate_no == any_(bindparam("no", type_=ARRAY(String))))
SUCCESSOR = (select(_CERTS.c.certificate_no).where(_CERTS.c.replaces == bindparam("no"))
             .order_by(_CERTS.c.id.desc()).limit(1))


def public_view(ctx: WebContext, *, session: Any, verdict: Verdict) -> dict[str, Any]:
    """What a third party may see of a document's verdict: outcome, status, the
    certificate's public fields, the holder's masked name; never the ID number."""
    labels = ctx.settings.outcome_labels
    if verdict.outcome in ("unknown", "tampered"):
        view = {"outcome": verdict.outcome, "valid": False, "reason": verdict.reason,
                "outcome_label": labels.get(verdict.outcome, verdict.outcome)}
        if verdict.outcome == "tampered":
            view["certificate_no"] = verdict.certificate_no
        return view
    row = session.execute(BY_NUMBER, {"no": verdict.certificate_no}).first()
    successor = session.execute(SUCCESSOR, {"no": verdict.certificate_no}).scalar()
    view = _row_view(ctx, row, successor)
    if view["valid"]:
        view["reason"] = verdict.reason  # what the file's check found (signature, registry)
    return view


async def check_code(ctx: WebContext, request: Request, number: str, code: str) -> tuple[int, dict[str, Any], float]:
    """(HTTP status, view, seconds to wait). 400 for a malformed number, 429 while the
    client or the number must wait, 404 for no match, 200 for a certificate.

    The same rules as certificate_verify.verify_number, in one indexed read of the
    columns shown (the path every QR scan takes): an unknown number, a registration
    without a code and a wrong code are one answer."""
    number, code = number.strip().upper(), code.strip()
    problem = number_problem(number)
    if problem or not code:
        return 400, {"outcome": "unknown", "valid": False,
                     "reason": problem or "请输入证书上的验证码"}, 0.0
    keys = (("client", client_of(request)), ("number", number))
    now = ctx.now_unix()
    with ctx.lock:
        wait = max(ctx.guesses.retry_after(keys[0], now), ctx.guesses.retry_after(keys[1], now))
    if wait > 0:
        return 429, _too_many(wait), wait
    row = await ctx.reader.first_by(BY_NUMBER, "no", number, many=BY_NUMBERS, column="certificate_no")
    matches = row is not None and bool(row.verification_code) and \
        hmac.compare_digest(normalize_code(code), row.verification_code)
    if not matches:
        with ctx.lock:
            for k in keys:
                ctx.guesses.failed(k, now)
        return 404, {"outcome": "unknown", "valid": False, "reason": NO_MATCH,
                     "outcome_label": ctx.settings.outcome_labels.get("unknown", "")}, 0.0
    successor = None  # only a certificate that is no longer valid can have one
    if row.status != "valid":
        found = await ctx.reader.first(SUCCESSOR, {"no": number})
        successor = found.certificate_no if found else None
    return 200, _row_view(ctx, row, successor), 0.0


def _row_view(ctx: WebContext, row: Any, successor: str | None) -> dict[str, Any]:
    status = status_view(row.status, successor, ctx.settings.status_labels)
    outcome = "valid" if status.valid else "superseded" if successor else row.status
    # a revocation's reason stays with staff (`zhicheng verify`): an officer's words may
    # name the person or the case; the public learns the status and its date
    reason = "证书有效" if status.valid else f"已由证书 {successor} 取代" if successor else status.label
    return {"outcome": outcome, "valid": status.valid,
            "outcome_label": ctx.settings.outcome_labels.get(outcome, status.label),
            "certificate_no": row.certificate_no, "status": status.status, "status_label": status.label,
            "replaced_by": status.replaced_by, "reason": reason, "holder_name": mask_name(row.holder_name),
            "qualification_name": row.qualification_name, "level": row.level, "series": row.series,
            "specialty": row.specialty, "obtained_by": row.obtained_by, "issuer": row.issuer,
            "issued_on": row.issued_on.isoformat(), "approved_on": row.approved_on.isoformat(),
            "revoked_on": local_date(row.revoked_at).isoformat() if row.revoked_at else None}


def _too_many(wait: float) -> dict[str, Any]:
    seconds = int(wait + 0.999)
    return {"outcome": "rate_limited", "valid": False, "retry_after": seconds,
            "reason": f"尝试次数过多，请在 {_duration(seconds)} 后再试。"}


def _duration(seconds: int) -> str:
    return f"{seconds} 秒" if seconds < 120 else f"{(seconds + 59) // 60} 分钟"


async def check_upload(ctx: WebContext, data: bytes) -> dict[str, Any]:
    from starlette.concurrency import run_in_threadpool
    return await run_in_threadpool(_check_file, ctx, data)


def _check_file(ctx: WebContext, data: bytes) -> dict[str, Any]:
    keys = KeyStore.for_home(ctx.app.settings.home)
    with ctx.app.sessions() as session:
        verdict = verify_document(session=session, data=data, keys=keys)
        return public_view(ctx, session=session, verdict=verdict)


# -- pages ---------------------------------------------------------------------------

async def verify_page(request: Request) -> Response:
    ctx: WebContext = request.app.state.ctx
    number = request.query_params.get("no", "")
    code = request.query_params.get("code", "")
    if not number and not code:
        return ctx.render(request, "verify.html", number="", code="", result=None)
    return await _answer_page(request, ctx, number, code)


async def verify_form(request: Request) -> Response:
    ctx: WebContext = request.app.state.ctx
    form = await request.form()
    return await _answer_page(request, ctx, str(form.get("no") or ""), str(form.get("code") or ""))


async def _answer_page(request: Request, ctx: WebContext, number: str, code: str) -> Response:
    status, view, wait = await check_code(ctx, request, number, code)
    response = ctx.render(request, "verify.html", status_code=status, number=number.strip().upper(),
                          code=code.strip(), result=view)
    if wait:
        response.headers["Retry-After"] = str(view["retry_after"])
    return response


async def upload_page(request: Request) -> Response:
    ctx: WebContext = request.app.state.ctx
    limit = ctx.settings.upload_max_bytes
    data, problem = await _read_upload(request, limit)
    if problem:
        return ctx.render(request, "verify.html", status_code=400, number="", code="",
                          result={"outcome": "unknown", "valid": False, "reason": problem}, upload=True)
    view = await check_upload(ctx, data)
    return ctx.render(request, "verify.html", number="", code="", result=view, upload=True)


async def _read_upload(request: Request, limit: int) -> tuple[bytes, str | None]:
    if int(request.headers.get("content-length") or 0) > limit + 64 * 1024:
        return b"", f"文件超过 {limit // (1024 * 1024)} MB，无法核验"
    async with request.form(max_files=1, max_fields=5, max_part_size=limit + 1) as form:
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            return b"", "请选择电子证书 PDF 文件"
        data = await upload.read(limit + 1)
    if len(data) > limit:
        return b"", f"文件超过 {limit // (1024 * 1024)} MB，无法核验"
    return data, None


# -- JSON API ------------------------------------------------------------------------

async def api_verify(request: Request) -> Response:
    """GET /api/v1/verifications?certificate_no=N&code=C"""
    ctx: WebContext = request.app.state.ctx
    # as Starlette's query_params reads it (the last of a repeated name), without the
    # multi-dict this one look-up does not need
    q = dict(parse_qsl(request.scope["query_string"].decode("latin-1"), keep_blank_values=True))
    status, view, wait = await check_code(ctx, request, q.get("certificate_no", ""), q.get("code", ""))
    if status == 200:
        return _JSON(view)
    errors = {400: "bad_request", 404: "not_found", 429: "rate_limited"}
    headers = {"Retry-After": str(view["retry_after"])} if wait else None
    return _JSON({"error": errors[status], "message": view["reason"]}, status_code=status, headers=headers)


async def api_verify_document(request: Request) -> Response:
    """POST /api/v1/verifications with the PDF as the body (application/pdf)."""
    ctx: WebContext = request.app.state.ctx
    limit = ctx.settings.upload_max_bytes
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return _JSON({"error": "too_large", "message": f"the PDF exceeds {limit} bytes"}, status_code=413)
        chunks.append(chunk)
    if not size:
        return _JSON({"error": "bad_request", "message": "send the certificate PDF as the body"},
                     status_code=400)
    return _JSON(await check_upload(ctx, b"".join(chunks)))
