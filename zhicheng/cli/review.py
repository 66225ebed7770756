"""`zhicheng review ...`: the offices' decisions (审核决定) and overdue stages.

File format: docs/review.md. A file with a bad row is refused whole (exit 2), every
bad row listed with its line number and why; nothing from it is applied.
"""
from __future__ import annotations

from pathlib import Path

import typer

from zhicheng.cli.output import (EXIT_NEEDS_HUMAN, AsOfOption, JsonOption, app_at, fail, guarded,
                                 print_json, print_table)

review_app = typer.Typer(help="Review chains (审核流程): import decisions, list overdue stages.",
                         no_args_is_help=True)


@review_app.command("import")
@guarded
def import_(file: Path = typer.Argument(..., help="CSV or XLSX file of decisions (format: docs/review.md)"),
            as_of: str = AsOfOption, as_json: bool = JsonOption) -> None:
    """Apply a department's decisions: 通过 moves on, 退回 returns to the applicant, 不通过 ends."""
    from zhicheng.db.engine import unit_of_work
    from zhicheng.domain.review import IllegalMove
    from zhicheng.files.tables import FileRefused
    from zhicheng.quality.file_checks import check_file
    from zhicheng.review.imports import import_decisions
    app = app_at(as_of)
    check_file(app, "decisions", file)  # the data team's view (Data Docs); the import decides
    try:
        with unit_of_work(app.sessions) as s:
            r = import_decisions(session=s, path=file, config=app.config, now=app.clock.now())
    except FileRefused as exc:
        fail(str(exc))
    except IllegalMove as exc:  # changed under us since the check: nothing was applied
        fail(f"{file}: refused, nothing applied: {exc}; import it again")
    if as_json:
        print_json(r)
        return
    by = r["by_result"]
    typer.echo(f"{r['file']}: {r['rows']} rows, {r['applied']} applied (通过 {by['approve']}, "
               f"退回 {by['return']}, 不通过 {by['reject']}), {r['already_applied']} already applied")
    for x in r["restored_ids"]:
        typer.echo(f"row {x['row']}: 申报编号 {x['cell']} read as {x['submission_id']} (leading zeros restored)")


@review_app.command("overdue")
@guarded
def overdue(as_of: str = AsOfOption, as_json: bool = JsonOption) -> None:
    """List applications past their stage's time limit, per office, and write the XLSX report.
    Exit 1 when any is overdue."""
    from zhicheng.review.overdue import overdue_report
    app = app_at(as_of)
    r = overdue_report(app)
    if as_json:
        print_json(r)
    else:
        print_table(f"{r['as_of'][:10]} 超期办件 {len(r['rows'])} 件",
                    ["审核单位", "审核环节", "申报编号", "姓名", "办理时限", "超期工作日"],
                    [[x["office"], x["stage"], x["submission_id"], x["name"], x["due_at"][:16],
                      x["days_overdue"]] for x in r["rows"]])
        typer.echo(f"报表：{r['xlsx']}")
    if r["rows"]:
        raise typer.Exit(EXIT_NEEDS_HUMAN)


def register(app: typer.Typer) -> None:
    app.add_typer(review_app, name="review")
