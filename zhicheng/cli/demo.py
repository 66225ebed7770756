"""`zhicheng demo`: the main job on embedded defaults, in a fresh workspace."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import typer

from zhicheng.cli.output import JsonOption, err_console, guarded, print_json, print_table


@guarded
def demo(
    applications: int = typer.Option(120, "--applications", help="size of the synthetic year"),
    seed: int = typer.Option(7, "--seed", help="seed of the synthetic year"),
    workspace: Path = typer.Option(Path(".zhicheng/demo"), "--workspace",
                                   help="folder for the demo's database, files and reports (recreated)"),
    as_json: bool = JsonOption,
) -> None:
    """Walk a synthetic batch year through the whole back office, on stand-ins and a simulated clock.

    Stand-in hall, 学信 and province on loopback; intake, 学信 sync, validation with
    returns and resubmissions, review decisions, publicity with objections, the expert
    vote, and the year-end run (issue, push, reconcile, quality).
    """
    from zhicheng.services.demo import run_demo
    from zhicheng.services.demo_report import count_rows
    workspace = workspace.resolve()
    if workspace.exists():
        shutil.rmtree(workspace)
    workspace.mkdir(parents=True)
    os.environ["ZHICHENG_HOME"] = str(workspace)
    for key in ("ZHICHENG_DATABASE_URL", "ZHICHENG_DATABASE_SCHEMA"):
        os.environ.pop(key, None)
    # The temporary Prefect server gets 20 s to start by default: too little on a busy
    # laptop, and the demo would die before its first flow.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    summary = run_demo(applications=applications, seed=seed, workspace=workspace,
                       progress=lambda step: err_console.print(f"[dim]demo:[/dim] {step} ..."))
    if as_json:
        print_json(summary)
        return
    print_table("zhicheng demo", ["step", "result"], summary["steps"])
    print_table("what the database holds", ["what", "count"], count_rows(summary["counts"]))
    print_table("where things are", ["what", "where"], sorted(summary["where"].items()))
    typer.echo("The flow runs, their tables and artifacts are in Prefect: run `prefect server start` "
               "and open http://127.0.0.1:4200 (Runs, Artifacts).")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
