"""`zhicheng serve`: register every deployment and its schedule with the Prefect API."""
from __future__ import annotations

import typer

from zhicheng.cli.output import JsonOption, fail, guarded, print_json, print_table


@guarded
def serve(
    pool: str = typer.Option(None, "--pool", help="process work pool to register into (default: config)"),
    here: bool = typer.Option(False, "--here", help="serve the deployments in this process instead "
                              "of a work pool (one machine, no workers)"),
    as_json: bool = JsonOption,
) -> None:
    """Register the deployments of config/deployments.yaml with the Prefect API."""
    from zhicheng.services.deploy import register_deployments, serve_here
    if here:
        serve_here()
        return
    try:
        rows = register_deployments(pool=pool)
    except ConnectionError as exc:
        fail(str(exc))
    if as_json:
        print_json(rows)
    else:
        print_table("deployments", ["deployment", "schedules", "concurrency", "id"],
                    [[r["name"], "; ".join(r["schedules"]) or "on demand", r["concurrency"], r["id"]]
                     for r in rows])


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
