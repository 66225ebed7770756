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
    from zhicheng.flows.education import education_sync as flow
    from zhicheng.services.education_fetch import ChsiNotConfigured
    try:
        result = flow(as_of=as_of, limit=limit)
    except ChsiNotConfigured as exc:
        fail(str(exc))
    if as_json:
        print_json(result)
    else:
        rows = [["pending", result["pending"]], ["checked", result["checked"]],
                ["asked 学信", result["fetched"]], ["reused answers", result["reused"]]]
        rows += [[f"outcome {k}", v] for k, v in sorted(result["outcomes"].items())]
        print_table("education-sync", ["", "count"], rows)
    if result["paused"]:
        fail("学信 was unavailable: the sync paused; run `zhicheng education-sync` again later",
             EXIT_NEEDS_HUMAN)


def register(app: typer.Typer) -> None:
    app.command("education-sync")(education_sync)
