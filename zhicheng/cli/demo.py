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
    runner: str = typer.Option("inprocess", "--runner",
                               help="where the flows run: inprocess, dask (validation's chunks on a Dask "
                                    "LocalCluster) or workers (deployment runs on two process workers of the "
                                    "Prefect server at PREFECT_API_URL; docs/scale-out.md)"),
    as_json: bool = JsonOption,
) -> None:
    """Walk a synthetic batch year through the whole back office, on stand-ins and a simulated clock.

    Stand-in hall, 学信 and province on loopback; intake, 学信 sync, validation with
    returns and resubmissions, review decisions, publicity with objections, the expert
    vote, and the year-end run (issue, push, reconcile, quality).
    """
    from zhicheng.demo.driver import run_demo
    from zhicheng.demo.report import count_rows
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
    summary = run_demo(applications=applications, seed=seed, workspace=workspace, runner=runner,
                       progress=(lambda step: None) if as_json else
                       (lambda step: err_console.print(f"[dim]演示：[/dim]{step} ……")))
    if as_json:
        print_json(summary)
        return
    print_table("zhicheng 演示：一个申报年度", ["步骤", "结果"], summary["steps"])
    print_table("数据库中的记录", ["项目", "数量"], count_rows(summary["counts"]))
    print_table("文件位置", ["内容", "位置"], sorted(summary["where"].items()))
    typer.echo("各流程的运行、表格和产出物都在 Prefect 中：`make ui`（或在同一 PREFECT_HOME 下运行 "
               "`zhicheng ui`）在 http://127.0.0.1:4200 打开（Runs、Artifacts、Deployments）。")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
