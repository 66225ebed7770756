"""`zhicheng demo`: the main job on embedded defaults, in a fresh workspace."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import typer

from zhicheng.cli.output import JsonOption, guarded, print_json, print_table


@guarded
def demo(
    applications: int = typer.Option(200, "--applications", help="size of the synthetic year"),
    seed: int = typer.Option(7, "--seed", help="seed of the synthetic year"),
    workspace: Path = typer.Option(Path(".zhicheng/demo"), "--workspace",
                                   help="folder for the demo's database, files and reports (recreated)"),
    as_json: bool = JsonOption,
) -> None:
    """Set up a fresh workspace and walk a synthetic year through the back office."""
    from zhicheng.services.demo import run_demo
    if workspace.exists():
        shutil.rmtree(workspace)
    workspace.mkdir(parents=True)
    os.environ["ZHICHENG_HOME"] = str(workspace.resolve())
    os.environ.pop("ZHICHENG_DATABASE_URL", None)
    summary = run_demo(applications=applications, seed=seed, workspace=workspace.resolve())
    if as_json:
        print_json(summary)
        return
    print_table("zhicheng demo", ["step", "result"], summary["steps"])
    typer.echo(f"workspace: {summary['workspace']}")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
