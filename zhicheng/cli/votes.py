"""`zhicheng votes ...`: rosters, sessions, ballots and the tally of an expert vote (专家评审).

File formats: docs/votes.md. A file with a bad row is refused whole (exit 2), every
bad row listed. A tally with anomalies exits 1: a human must resolve them.
"""
from __future__ import annotations

from pathlib import Path

import typer

from zhicheng.cli.output import (EXIT_NEEDS_HUMAN, AsOfOption, JsonOption, app_at, fail, guarded,
                                 print_json, print_table)

votes_app = typer.Typer(help="Expert votes (专家评审): rosters, sessions, ballots, tallies.",
                        no_args_is_help=True)

FileArg = typer.Argument(..., help="CSV or XLSX file (format: docs/votes.md)")


def _run(fn, *, with_config: bool = True, file_kind: str | None = None, **kwargs):
    """Run a service in one transaction (a refused file, an unknown session: `guarded`);
    a staff file is first checked by its suites for the Data Docs (zhicheng.quality.file_checks)."""
    from zhicheng.cli.output import app_at
    from zhicheng.db.engine import unit_of_work
    app = app_at()
    if file_kind is not None:
        from zhicheng.quality.file_checks import check_file
        check_file(app, file_kind, kwargs["path"])
    with unit_of_work(app.sessions) as session:
        if with_config:
            kwargs["config"] = app.config
        return app, fn(session=session, **kwargs)


def _done(result: dict, as_json: bool, text: str) -> None:
    if as_json:
        print_json(result)
    else:
        typer.echo(text)


@votes_app.command("import-roster")
@guarded
def import_roster(file: Path = FileArg, as_json: bool = JsonOption) -> None:
    """Load committee members (专家名单) with their employers; updates members already known."""
    from zhicheng.votes.service import import_roster as service
    _, result = _run(service, path=file, file_kind="roster")
    _done(result, as_json, f"{result['rows']} members: {result['created']} new, {result['updated']} updated")


@votes_app.command("session-import")
@guarded
def session_import(file: Path = typer.Argument(..., help="XLSX workbook with sheets 会议, 议程, 出席 (回避)"),
                   as_json: bool = JsonOption) -> None:
    """Load a voting session (评审会议): agenda, attendance, declared conflicts; records recusals."""
    from zhicheng.votes.service import import_session as service
    _, r = _run(service, path=file, file_kind="session")
    _done(r, as_json, f"session {r['session']} ({r['committee']}): {r['agenda']} applications, "
                      f"{r['present']} of {r['members_total']} present, {r['recusals']} recusals")


@votes_app.command("import")
@guarded
def import_ballots(file: Path = FileArg, as_json: bool = JsonOption) -> None:
    """Load ballots (选票). Refused whole if any row is bad; re-importing the same file is harmless."""
    from zhicheng.votes.service import import_ballots as service
    _, r = _run(service, path=file, file_kind="ballots")
    _done(r, as_json, f"{r['rows']} ballots: {r['stored']} stored, {r['already_stored']} already stored")


@votes_app.command("tally")
@guarded
def tally(session_code: str = typer.Option(..., "--session", help="voting session code (会议编号)"),
          dry_run: bool = typer.Option(False, "--dry-run", help="count only: record no outcome, move nothing"),
          report: Path = typer.Option(None, "--report", help="also write the session report (XLSX, PDF) here"),
          as_of: str = AsOfOption,
          as_json: bool = JsonOption) -> None:
    """Per application: present, recused, yes, no, abstain, threshold, outcome (counts only).

    Without --dry-run each outcome is recorded once and moves the application: pass
    approves its 专家评审 stage, fail rejects it. Anomalies withhold outcomes (exit 1).
    """
    from zhicheng.votes import service as votes
    if dry_run:
        app, result = _run(votes.tally, session_code=session_code)
    else:
        now = app_at(as_of).clock.now()
        app, result = _run(votes.apply_tally, session_code=session_code, now=now)
    if report is not None:
        from zhicheng.votes.reports import write_session_report
        with app.sessions() as s:
            result["report"] = write_session_report(session=s, result=result, config=app.config, out_dir=report)
    _print_tally(result, as_json)
    if result["anomalies"] or result.get("decide_problems"):
        raise typer.Exit(EXIT_NEEDS_HUMAN)


def _print_tally(result: dict, as_json: bool) -> None:
    if as_json:
        print_json(result)
        return
    from zhicheng.votes.reports import REPORT_COLUMNS, tally_rows
    typer.echo(f"评审会议 {result['session']}：委员 {result['members_total']} 人，出席 {result['present']} 人"
               f"（法定人数 {result['quorum_needed']}：{'已达到' if result['quorum'] else '未达到'}）")
    print_table(None, [REPORT_COLUMNS[0], *REPORT_COLUMNS[5:]], tally_rows(result))
    for a in result["anomalies"]:
        typer.echo(f"计票异常 {a['code']}：{a['message']}（文件 {a['source'] or '-'}，行 "
                   f"{','.join(map(str, a['rows'])) or '-'}）")
    for p in result.get("decide_problems", []):
        typer.echo(f"未能推进 {p['application']}：{p['problem']}")
    if result.get("report"):
        typer.echo(f"会议报告：{result['report']['xlsx']} {result['report']['pdf']}")


@votes_app.command("void")
@guarded
def void(session_code: str = typer.Option(..., "--session", help="voting session code (会议编号)"),
         file: str = typer.Option(..., "--file", help="ballot file name as the anomaly names it"),
         rows: str = typer.Option(..., "--rows", help="row numbers, comma separated"),
         reason: str = typer.Option(..., "--reason", help="why (kept with the ballots)"),
         as_json: bool = JsonOption) -> None:
    """Resolve an anomaly: void the ballots of the given rows; then tally again."""
    from zhicheng.cli.output import app_at
    from zhicheng.votes.service import void_ballots
    try:
        numbers = [int(x) for x in rows.split(",") if x.strip()]
    except ValueError:
        fail(f"--rows {rows!r} must be row numbers separated by commas")
    _, n = _run(void_ballots, with_config=False, session_code=session_code, source_file=file, rows=numbers,
                reason=reason, now=app_at().clock.now())
    _done({"voided": n}, as_json, f"{n} ballots voided")


def register(app: typer.Typer) -> None:
    app.add_typer(votes_app, name="votes")
