"""`zhicheng serve`: register every deployment and its schedule with the Prefect API."""
from __future__ import annotations

import typer

from zhicheng.cli.output import JsonOption, fail, guarded, print_json, print_table

DONE_WORDS = {"registered": "已登记", "unchanged": "未变（保留）", "created": "已创建", "updated": "已更新"}


@guarded
def serve(
    pool: str = typer.Option(None, "--pool", help="process work pool to register into (default: config)"),
    here: bool = typer.Option(False, "--here", help="serve the deployments in this process instead "
                              "of a work pool (one machine, no workers)"),
    as_json: bool = JsonOption,
) -> None:
    """Register the deployments of config/deployments.yaml and the automations of
    config/automations.yaml with the Prefect API (again: unchanged ones are left alone)."""
    from zhicheng.deploy import register_automations, register_deployments, serve_here
    if here:
        serve_here()
        return
    try:
        rows = register_deployments(pool=pool)
        automations = register_automations()
    except ConnectionError as exc:
        fail(str(exc))
    if as_json:
        print_json(rows)   # the deployments, as before; automations are in the table view
    else:
        print_table("部署", ["部署", "计划", "并发上限", "登记", "id"],
                    [[r["name"], "; ".join(r["schedules"]) or "按需运行", r["concurrency"],
                      DONE_WORDS.get(r["done"], r["done"]), r["id"]] for r in rows])
        print_table("自动化（需要人工处理时通知）", ["自动化", "登记", "通知"],
                    [[a["name"], DONE_WORDS.get(a["done"], a["done"]), a["notifies"]] for a in automations])


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
