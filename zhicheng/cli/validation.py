"""`zhicheng validate`: check materials and fields of pending applications; return
failing ones to the hall."""
from __future__ import annotations

import typer

from zhicheng.cli.output import (EXIT_BAD_USAGE, EXIT_NEEDS_HUMAN, AsOfOption, JsonOption, fail, guarded,
                                 print_json, print_table)


@guarded
def validate(
    as_of: str = AsOfOption,
    limit: int = typer.Option(None, "--limit", help="validate at most this many applications"),
    as_json: bool = JsonOption,
) -> None:
    """Check every received application against the rules; errors return it to the
    applicant through the hall, warnings go to reviewers.

    Exit 1 when applications were returned (their applicants must act); exit 2 when
    applications wait for 学信 because it is not configured (no run will help until it is).
    """
    from zhicheng.flows.validation import validate as flow
    from zhicheng.services.education_fetch import NOT_CONFIGURED
    result = flow(as_of=as_of, limit=limit)
    if as_json:
        print_json(result)
    else:
        rows = [["validated", result["applications"]], ["passed", result["passed"]],
                ["returned", result["returned"]], ["waiting for 学信", result["awaiting_chsi"]],
                ["files inspected", result["files"]]]
        rows += [[f"finding {code}", n] for code, n in result["findings"].items()]
        print_table("validate", ["", "count"], rows)
    if result["awaiting_chsi"] and not result["chsi"]["configured"]:
        fail(f"{result['awaiting_chsi']} applications wait for 学信. {NOT_CONFIGURED}", EXIT_BAD_USAGE)
    if result["returned"]:
        fail(f"{result['returned']} applications returned to their applicants; see `findings` for why",
             EXIT_NEEDS_HUMAN)


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
