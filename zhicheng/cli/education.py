"""`zhicheng education-sync`: fetch and verify education records with 学信."""
from __future__ import annotations

import typer

from zhicheng.cli.output import (EXIT_NEEDS_HUMAN, AsOfOption, JsonOption, fail, guarded,
                                 print_json, print_table)


@guarded
def education_sync(
    as_of: str = AsOfOption,
    limit: int = typer.Option(None, "--limit", help="check at most this many applications"),
    as_json: bool = JsonOption,
) -> None:
    """Match declared education to 学信 records and verify uploaded 学信 reports.

    Exit 1 when 学信 was unavailable (the run paused; run again later to continue).
    """
    from zhicheng.cli.progress import run
    from zhicheng.education.fetch import ChsiNotConfigured
    from zhicheng.flows.education import counts, education_sync as flow
    try:
        result = run(flow, as_json=as_json, as_of=as_of, limit=limit)
    except ChsiNotConfigured as exc:
        fail(str(exc))
    if as_json:
        print_json(result)
    else:
        print_table("学信核验", ["项目", "数量"], counts(result))
    if result["paused"]:
        fail("学信网不可用，核验已暂停；稍后再运行 `zhicheng education-sync`，从中断处继续", EXIT_NEEDS_HUMAN)


def register(app: typer.Typer) -> None:
    app.command("education-sync")(education_sync)
