"""`zhicheng ui`: open the demo's runs, artifacts and deployments in the Prefect UI."""
from __future__ import annotations

import os

import typer

from zhicheng.cli.output import fail, guarded


@guarded
def ui(
    port: int = typer.Option(4200, "--port", help="port of the Prefect UI on 127.0.0.1"),
    serve: bool = typer.Option(True, "--serve/--no-serve", help="register the deployments and automations"),
) -> None:
    """Start the Prefect server on this PREFECT_HOME (`make ui`: the demo's) and print its URL."""
    import signal
    import sys

    from zhicheng.demo.ui import register_here, start_server
    from zhicheng.deploy import register_automations, register_deployments
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stopped by a supervisor: stop the server too
    try:
        proc, url = start_server(port)
    except (RuntimeError, TimeoutError) as exc:
        fail(f"{exc}; is port {port} taken? try --port")
    try:
        if serve:
            register_here(f"{url}/api", lambda: (register_deployments(pool=None), register_automations()))
        home = os.environ.get("PREFECT_HOME", "~/.prefect")
        typer.echo(f"Prefect UI: {url}  (database in {home})\n"
                   f"  Runs:        {url}/runs         the demo's flow runs, their logs and states\n"
                   f"  Artifacts:   {url}/artifacts    tables and reports the runs left\n"
                   f"  Deployments: {url}/deployments  schedules and parameters (docs/operations.md)\n"
                   "Ctrl-C stops it.")
        proc.wait()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def register(app: typer.Typer) -> None:
    app.command("ui")(ui)
