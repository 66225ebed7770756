"""Verbs over reference data and rules: db upgrade, route show, calendar."""
from __future__ import annotations


import typer

from zhicheng.cli.output import JsonOption, fail, guarded, print_json
from zhicheng.domain.routes import REPORTING_LEVELS, TIERS, UnknownRoute

db_app = typer.Typer(help="The database: create or migrate it.", no_args_is_help=True)
route_app = typer.Typer(help="Review chains (审核流程).", no_args_is_help=True)
calendar_app = typer.Typer(help="The working-day calendar (工作日).", no_args_is_help=True)


@db_app.command("upgrade")
@guarded
def db_upgrade(
    runtime_role: str = typer.Option(
        None, "--runtime-role", metavar="NAME",
        help="PostgreSQL role the application runs as, granted only what the audit trail allows "
             "(default: the role of ZHICHENG_DATABASE_URL when ZHICHENG_DATABASE_OWNER_URL is set)"),
    as_json: bool = JsonOption,
) -> None:
    """Create or migrate the database to the newest schema, grant the runtime role, load reference data.

    In production the migrations run as the owner role (ZHICHENG_DATABASE_OWNER_URL) and the
    application as a runtime role that cannot alter, update or delete the audit trail
    (docs/audit-trail.md).
    """
    from zhicheng.workspace import upgrade_database
    result = upgrade_database(runtime_role=runtime_role)
    if as_json:
        print_json(result)
    else:
        typer.echo(f"database {result['database']} is at revision {result['revision']} "
                   f"({result['committees']} committees, {result['batches']} batches)")
        typer.echo(f"audit trail: {result['audit_trail']}")
        if result["made_private"]:
            typer.echo(f"workspace made private: {result['made_private']} files and folders "
                       "no longer open to other users")


@route_app.command("show")
@guarded
def route_show(
    tier: str = typer.Option(..., "--tier", help="committee tier: 省, 市 or 县区"),
    reporting: str = typer.Option(..., "--reporting", help="reporting level: 省直, 市级 or 县区级"),
    delegated: str = typer.Option(..., "--delegated", help="delegated issuing authority: yes or no"),
    as_json: bool = JsonOption,
) -> None:
    """Print a 评审 review chain, one stage a line, as seed 001 section 3.3.3.2 writes it."""
    from zhicheng.config import get_config
    if tier not in TIERS:
        fail(f"--tier {tier!r} is not one of {', '.join(TIERS)}")
    if reporting not in REPORTING_LEVELS:
        fail(f"--reporting {reporting!r} is not one of {', '.join(REPORTING_LEVELS)}")
    if delegated not in ("yes", "no"):
        fail(f"--delegated {delegated!r} must be yes or no")
    try:
        stages = get_config().chains.route(tier, reporting, delegated == "yes")
    except UnknownRoute as exc:
        fail(str(exc))
    if as_json:
        print_json({"tier": tier, "reporting": reporting, "delegated": delegated == "yes",
                    "stages": list(stages)})
    else:
        typer.echo("\n".join(stages))


@calendar_app.command("add-working-days")
@guarded
def add_working_days(
    date: str = typer.Argument(..., help="publication date, e.g. 2026-06-03 (docs/architecture.md#time)"),
    n: int = typer.Argument(..., help="number of working days in the window (at least 1)"),
    as_json: bool = JsonOption,
) -> None:
    """Print the last day of a window of N working days published on DATE."""
    from zhicheng.workspace import working_calendar
    from zhicheng.clock import TypedTimeError, typed_date
    try:
        published = typed_date(date, what="DATE")
    except TypedTimeError as exc:
        fail(str(exc))
    if n < 1:
        fail(f"N must be at least 1, got {n}")
    last = working_calendar().add_working_days(published, n)
    if as_json:
        print_json({"published": published.isoformat(), "working_days": n, "last_day": last.isoformat()})
    else:
        typer.echo(last.isoformat())


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.add_typer(route_app, name="route")
    app.add_typer(calendar_app, name="calendar")
