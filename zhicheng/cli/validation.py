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
    from zhicheng.cli.progress import run
    from zhicheng.education.fetch import NOT_CONFIGURED
    from zhicheng.flows.validation import counts, validate as flow
    result = run(flow, as_json=as_json, as_of=as_of, limit=limit)
    if as_json:
        print_json(result)
    else:
        print_table("材料校验", ["项目", "数量"], counts(result))
    if result["awaiting_chsi"] and not result["chsi"]["configured"]:
        fail(f"{result['awaiting_chsi']} applications wait for 学信. {NOT_CONFIGURED}", EXIT_BAD_USAGE)
    if result["awaiting_province"] and not result["province"]["configured"]:
        fail(f"{result['awaiting_province']} 件补办/换发/历史登记办件待省一体化平台查证原证书：请设置 "
             "ZHICHENG_PROVINCE_URL、ZHICHENG_PROVINCE_APP_ID、ZHICHENG_PROVINCE_APP_SECRET", EXIT_BAD_USAGE)
    if result["returned"]:
        fail(f"{result['returned']} 件办件已退回申报人修改（原因见审核发现 findings）", EXIT_NEEDS_HUMAN)


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
