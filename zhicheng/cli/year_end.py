"""`zhicheng year-end --batch-year Y`: the whole cycle of a batch year, resumable."""
from __future__ import annotations

import typer

from zhicheng.cli.output import (EXIT_NEEDS_HUMAN, AsOfOption, JsonOption, fail, guarded,
                                 print_json, print_table)


@guarded
def year_end(
    batch_year: int = typer.Option(..., "--batch-year", help="the batch year (申报年度) to finish"),
    as_of: str = AsOfOption,
    wait: float = typer.Option(0, "--wait", help="seconds to wait if this year's run is already going "
                               "(default: exit at once)"),
    as_json: bool = JsonOption,
) -> None:
    """Close due publicity, issue, push, reconcile and check quality for one batch year.

    Exit 1 when a step left something for a person (failed checks, dead letters, held
    applications), as the run's Failed state in Prefect says."""
    from zhicheng.cli.progress import run
    from zhicheng.config import get_config, require_batch_year
    from zhicheng.flows.year_end import STATES, needs
    from zhicheng.flows.year_end import year_end as flow
    from zhicheng.locks import AlreadyRunning
    from zhicheng.year_end.service import STEP_NAMES
    require_batch_year(get_config(), batch_year)
    try:
        result = run(flow, as_json=as_json, batch_year=batch_year, as_of=as_of, wait_seconds=max(wait, 0.1))
    except (AlreadyRunning, TimeoutError) as exc:
        fail(f"year-end {batch_year} is already running ({exc}); wait for it to finish "
             f"or pass --wait SECONDS", EXIT_NEEDS_HUMAN)
    if as_json:
        print_json(result)
    else:
        print_table(f"{batch_year} 年度年终发证", ["步骤", "状态", "结果"],
                    [[STEP_NAMES[r["step"]], STATES[r["state"]], r["headline"]] for r in result["steps"]])
    if needs(result["steps"]):  # cli.md: the work ran, something needs a human
        raise typer.Exit(EXIT_NEEDS_HUMAN)


def register(app: typer.Typer) -> None:
    app.command("year-end")(year_end)
