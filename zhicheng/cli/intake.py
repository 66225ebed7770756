"""`zhicheng intake`: pull new submissions from the hall and store them with their materials."""
from __future__ import annotations

import typer

from zhicheng.cli.output import (EXIT_NEEDS_HUMAN, AsOfOption, JsonOption, fail, guarded,
                                 print_json, print_table)


@guarded
def intake(
    as_of: str = AsOfOption,
    max_pages: int = typer.Option(None, "--max-pages", help="stop after this many pages"),
    as_json: bool = JsonOption,
) -> None:
    """Take in the hall's new submissions and resubmissions from the stored cursor.

    Exit 1 when the hall was unavailable (the run paused; run again later to continue).
    """
    from zhicheng.cli.progress import run
    from zhicheng.flows.intake import OUTCOMES, WORDS, intake as flow
    result = run(flow, as_json=as_json, as_of=as_of, max_pages=max_pages)
    if as_json:
        print_json(result)
    else:
        print_table("办件接收", ["项目", "数量"],
                    [[WORDS[k], result[k]] for k in ("pages", "received", *OUTCOMES, "files", "bytes")])
    if result["paused"]:
        fail(f"网上办事服务大厅不可用，办件接收已暂停（{result['paused']}）；稍后再运行 `zhicheng intake`，"
             f"从断点继续", EXIT_NEEDS_HUMAN)


def register(app: typer.Typer) -> None:
    app.command("intake")(intake)
