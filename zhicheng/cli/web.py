"""`zhicheng web`: the verification and query service (docs/verification.md), and
`zhicheng web staff ...`: the title offices' accounts."""
from __future__ import annotations

import os

import typer

from zhicheng.cli.output import JsonOption, fail, guarded, print_json

web_app = typer.Typer(help="The verification and query service: public verification, the hall's "
                           "downloads, staff search (docs/verification.md).",
                      invoke_without_command=True)
staff_app = typer.Typer(help="Staff accounts of the title offices (argon2id password hashes).",
                        no_args_is_help=True)


@web_app.callback()
def web(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on (behind the reverse proxy: loopback)"),
    port: int = typer.Option(8000, "--port", help="port to listen on"),
    forwarded_allow_ips: str = typer.Option("127.0.0.1", "--forwarded-allow-ips",
                                            help="proxies whose X-Forwarded-For/-Proto are trusted "
                                                 "(the client address the guess limits count by)"),
    workers: int = typer.Option(1, "--workers", min=1,
                                help="worker processes (one a core; each keeps its own guess counts)"),
) -> None:
    """Serve the verification and query service until Ctrl-C."""
    if ctx.invoked_subcommand is not None:
        return
    from zhicheng.cli.output import app_at
    from zhicheng.web import server
    from zhicheng.web.app import create_app
    create_app(app_at())  # a bad setting or key fails here, once, not in every worker
    typer.echo(f"zhicheng web on http://{host}:{port}/verify (staff: /staff/login), {workers} worker(s)")
    server.run(host=host, port=port, workers=workers, forwarded_allow_ips=forwarded_allow_ips)


def _password(given_env: str | None) -> str:
    if given_env:
        value = os.environ.get(given_env)
        if not value:
            fail(f"--password-env {given_env} is not set")
        return value
    return typer.prompt("password", hide_input=True, confirmation_prompt=True)


@staff_app.command("add")
@guarded
def staff_add(
    username: str = typer.Option(..., "--username", help="the sign-in name"),
    office: str = typer.Option(..., "--office", help="the office, e.g. 泰州市职称办"),
    region: str = typer.Option(..., "--region", help="the office's region code: 320000 sees the province, "
                                                     "321200 Taizhou with its districts, 321202 itself"),
    password_env: str = typer.Option(None, "--password-env",
                                     help="read the password from this environment variable (else asked)"),
    as_json: bool = JsonOption,
) -> None:
    """Add a staff account scoped to its office's region."""
    from zhicheng.cli.output import app_at
    from zhicheng.db.engine import unit_of_work
    from zhicheng.staff_accounts import AccountRefused, add_account
    app = app_at()
    password = _password(password_env)
    try:
        with unit_of_work(app.sessions) as session:
            account = add_account(session=session, username=username, password=password, office=office,
                                  region_code=region, regions=app.config.regions, now=app.clock.now())
            doc = {"username": account.username, "office": account.office, "region_code": account.region_code}
    except AccountRefused as exc:
        fail(str(exc))
    if as_json:
        print_json(doc)
    else:
        typer.echo(f"{doc['username']}: {doc['office']} ({doc['region_code']})")


@staff_app.command("password")
@guarded
def staff_password(
    username: str = typer.Option(..., "--username"),
    password_env: str = typer.Option(None, "--password-env",
                                     help="read the password from this environment variable (else asked)"),
) -> None:
    """Set a new password (ends the account's sessions)."""
    from zhicheng.cli.output import app_at
    from zhicheng.db.engine import unit_of_work
    from zhicheng.staff_accounts import AccountRefused, set_password
    app = app_at()
    password = _password(password_env)
    try:
        with unit_of_work(app.sessions) as session:
            set_password(session=session, username=username, password=password, now=app.clock.now())
    except AccountRefused as exc:
        fail(str(exc))
    typer.echo(f"{username}: password changed")


@staff_app.command("disable")
@guarded
def staff_disable(username: str = typer.Option(..., "--username")) -> None:
    """Disable an account (its sessions end at once; its look-ups stay in the audit trail)."""
    from zhicheng.cli.output import app_at
    from zhicheng.db.engine import unit_of_work
    from zhicheng.staff_accounts import AccountRefused, set_active
    app = app_at()
    try:
        with unit_of_work(app.sessions) as session:
            set_active(session=session, username=username, active=False)
    except AccountRefused as exc:
        fail(str(exc))
    typer.echo(f"{username}: disabled")


web_app.add_typer(staff_app, name="staff")


def register(app: typer.Typer) -> None:
    app.add_typer(web_app, name="web")
