"""Staff search behind sign-in (docs/verification.md): accounts per office, scoped to
its region; signed session cookies (SameSite=Strict, HttpOnly, Secure over HTTPS);
a CSRF token in every form; every look-up recorded in staff_lookups.
"""
from __future__ import annotations

import datetime as dt
import functools
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from itsdangerous import BadSignature
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import StaffAccount
from zhicheng.issuance import query
from zhicheng.staff_accounts import authenticate
from zhicheng.web.context import WebContext, client_of

SESSION, PRE = "zc_staff", "zc_csrf"


# -- sessions and CSRF ---------------------------------------------------------------

def _session(ctx: WebContext, request: Request) -> dict[str, Any] | None:
    raw = request.cookies.get(SESSION)
    if not raw:
        return None
    try:
        return ctx.signer("staff-session").loads(raw, max_age=ctx.settings.session_minutes * 60)
    except BadSignature:
        return None


def _account(ctx: WebContext, request: Request) -> tuple[StaffAccount, dict[str, Any]] | None:
    """The signed-in account: its session must be signed, young enough, of an active
    account whose password has not changed since (a change ends every session)."""
    data = _session(ctx, request)
    if not data:
        return None
    with ctx.app.sessions() as session:
        account = session.get(StaffAccount, data.get("uid"))
        if account is None or not account.active or \
                data.get("pw") != account.password_changed_at.isoformat():
            return None
        session.expunge(account)
    return account, data


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="strict", path="/staff",
                        secure=request.url.scheme == "https")


def _csrf_ok(expected: str | None, form: Any) -> bool:
    given = str(form.get("csrf") or "")
    return expected is not None and bool(expected) and secrets.compare_digest(given, expected)


def _login_token(ctx: WebContext, request: Request) -> str:
    """The sign-in form's token: double-submitted, once in a signed cookie, once in the form."""
    raw = request.cookies.get(PRE)
    if raw:
        try:
            return ctx.signer("staff-login").loads(raw, max_age=3600)
        except BadSignature:
            pass
    return secrets.token_urlsafe(24)


# -- handlers ------------------------------------------------------------------------

async def login_page(request: Request) -> Response:
    ctx: WebContext = request.app.state.ctx
    return _login_form(ctx, request, message=None)


def _login_form(ctx: WebContext, request: Request, message: str | None, status: int = 200,
                retry_after: int | None = None) -> Response:
    token = _login_token(ctx, request)
    response = ctx.render(request, "login.html", status_code=status, csrf=token, message=message)
    _set_cookie(request, response, PRE, ctx.signer("staff-login").dumps(token), 3600)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


async def login(request: Request) -> Response:
    ctx: WebContext = request.app.state.ctx
    form = await request.form()
    if not _csrf_ok(_login_token(ctx, request) if request.cookies.get(PRE) else None, form):
        return _login_form(ctx, request, "页面已过期，请重新登录。", 403)
    username, password = str(form.get("username") or "").strip(), str(form.get("password") or "")
    keys = (("client", client_of(request)), ("user", username))
    now = ctx.now_unix()
    with ctx.lock:
        wait = max(ctx.logins.retry_after(k, now) for k in keys)
    if wait > 0:
        seconds = int(wait + 0.999)
        return _login_form(ctx, request, f"登录失败次数过多，请在 {seconds} 秒后再试。", 429, seconds)
    account = await run_in_threadpool(_authenticate, ctx, username, password)
    if account is None:
        with ctx.lock:
            for k in keys:
                ctx.logins.failed(k, now)
        return _login_form(ctx, request, "用户名或密码不正确。", 401)
    token = secrets.token_urlsafe(24)
    cookie = ctx.signer("staff-session").dumps({"uid": account.id, "csrf": token,
                                                  "pw": account.password_changed_at.isoformat()})
    response = RedirectResponse("/staff/search", status_code=303)
    _set_cookie(request, response, SESSION, cookie, ctx.settings.session_minutes * 60)
    response.delete_cookie(PRE, path="/staff")
    return response


def _authenticate(ctx: WebContext, username: str, password: str) -> StaffAccount | None:
    with unit_of_work(ctx.app.sessions) as session:
        account = authenticate(session=session, username=username, password=password)
        if account is not None:
            session.flush()
            session.expunge(account)
        return account


async def logout(request: Request) -> Response:
    ctx: WebContext = request.app.state.ctx
    found = _account(ctx, request)
    form = await request.form()
    if found and not _csrf_ok(found[1].get("csrf"), form):
        return Response("CSRF token missing or wrong", status_code=403)
    response = RedirectResponse("/staff/login", status_code=303)
    response.delete_cookie(SESSION, path="/staff")
    return response


# A page for a signed-in account: gets the request, the context, the account and its
# session's data (its CSRF token).
SignedInHandler = Callable[[Request, WebContext, StaffAccount, dict[str, Any]], Awaitable[Response]]


def signed_in(handler: SignedInHandler) -> Callable[[Request], Awaitable[Response]]:
    """The sign-in every staff page asks first: `handler` runs for a signed-in account;
    anyone else is sent to the sign-in page."""
    @functools.wraps(handler)
    async def page(request: Request) -> Response:
        ctx: WebContext = request.app.state.ctx
        found = await run_in_threadpool(_account, ctx, request)
        if found is None:
            return RedirectResponse("/staff/login", status_code=303)
        account, data = found
        return await handler(request, ctx, account, data)
    return page


@signed_in
async def search_page(request: Request, ctx: WebContext, account: StaffAccount, data: dict[str, Any]) -> Response:
    return ctx.render(request, "search.html", account=account, csrf=data["csrf"], criteria={},
                      rows=None, message=None)


@signed_in
async def search(request: Request, ctx: WebContext, account: StaffAccount, data: dict[str, Any]) -> Response:
    form = await request.form()
    if not _csrf_ok(data["csrf"], form):
        return Response("CSRF token missing or wrong", status_code=403)
    export = form.get("export") == "xlsx"
    values = {k: str(form.get(k) or "") for k in query.CRITERIA}
    try:
        criteria = query.Criteria.parse(values)
    except query.BadCriteria as exc:
        return ctx.render(request, "search.html", status_code=400, account=account, csrf=data["csrf"],
                          criteria=values, rows=None, message=str(exc))
    rows = await run_in_threadpool(_search, ctx, request, account, criteria, export)
    if export:
        stamp = ctx.app.clock.now().strftime("%Y%m%d%H%M%S")
        body = query.export_xlsx(rows, title=f"证书查询结果（{account.office}，{stamp}）")
        return Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="certificates-{stamp}.xlsx"',
                                 "Cache-Control": "no-store"})
    return ctx.render(request, "search.html", account=account, csrf=data["csrf"], criteria=values,
                      rows=rows, message=None, limit=ctx.settings.search_limit)


def _search(ctx: WebContext, request: Request, account: StaffAccount, criteria: query.Criteria,
            export: bool) -> list[dict[str, Any]]:
    with unit_of_work(ctx.app.sessions) as session:
        rows = query.search(session=session, office_region=account.region_code, criteria=criteria,
                            limit=ctx.settings.search_limit,
                            labels=ctx.settings.status_labels)
        query.record_lookup(session=session, account=account, action="export" if export else "search",
                            criteria=criteria.given(), subjects=[r["certificate_no"] for r in rows],
                            client=client_of(request), now=ctx.app.clock.now())
    return rows


@signed_in
async def application_page(request: Request, ctx: WebContext, account: StaffAccount,
                           data: dict[str, Any]) -> Response:
    sid = request.path_params["submission_id"]
    view = await run_in_threadpool(_progress, ctx, request, account, sid)
    return ctx.render(request, "application.html", status_code=200 if view else 404, account=account,
                      csrf=data["csrf"], view=view, submission_id=sid)


async def application_lookup(request: Request) -> Response:
    from urllib.parse import quote
    sid = request.query_params.get("submission_id", "").strip()
    return RedirectResponse(f"/staff/applications/{quote(sid, safe='')}" if sid else "/staff/search",
                            status_code=303)


def _progress(ctx: WebContext, request: Request, account: StaffAccount, sid: str) -> dict[str, Any] | None:
    with unit_of_work(ctx.app.sessions) as session:
        view = query.progress(session=session, office_region=account.region_code, submission_id=sid)
        query.record_lookup(session=session, account=account, action="application", criteria={"submission_id": sid},
                            subjects=[sid] if view else [], client=client_of(request), now=ctx.app.clock.now())
    return view


def local_time(value: dt.datetime | None) -> str:
    from zhicheng.clock import local
    return local(value).strftime("%Y-%m-%d %H:%M") if value else ""

