"""`zhicheng publicity ...`: open windows (评前/评后/初定公示), take objections, close due windows.

File formats: docs/publicity.md. The published list shows names, employers, declared
title and specialty; never ID numbers, phone numbers or votes.
"""
from __future__ import annotations

from pathlib import Path

import typer

from zhicheng.cli.output import AsOfOption, JsonOption, app_at, fail, guarded, print_json, print_table

publicity_app = typer.Typer(help="Publicity windows (公示) and objections (异议).", no_args_is_help=True)
objections_app = typer.Typer(help="Objections (异议) lodged against applications on a window.",
                             no_args_is_help=True)
publicity_app.add_typer(objections_app, name="objections")


def _folder(app) -> str:
    return app.config.publicity.list_folder


@publicity_app.command("open")
@guarded
def open_(kind: str = typer.Option(..., "--kind", help="评前, 评后 or 初定"),
          committee: str = typer.Option(None, "--committee", help="committee id (评委会); 初定 may omit it"),
          out: Path = typer.Option(None, "--out", help="folder for the list (default: workspace publicity/)"),
          as_of: str = AsOfOption, as_json: bool = JsonOption) -> None:
    """Open a window over the applications at that publicity stage and publish its list (PDF, XLSX)."""
    from zhicheng.db.engine import unit_of_work
    from zhicheng.domain.publicity import KIND_STAGES
    from zhicheng.publicity.service import open_window
    from zhicheng.workspace import working_calendar
    if kind not in KIND_STAGES:
        fail(f"--kind {kind!r} is not one of {', '.join(KIND_STAGES)}")
    if committee is None and kind != "初定":
        fail(f"--committee is required for a {kind} window")
    app = app_at(as_of)
    with unit_of_work(app.sessions) as s:
        r = open_window(session=s, kind=kind, committee_id=committee, config=app.config,
                        calendar=working_calendar(app.config.directory), now=app.clock.now(),
                        out_dir=out or app.workspace(_folder(app)))
    if as_json:
        print_json(r)
    elif r["window"] is None:
        typer.echo(f"no application is waiting at {KIND_STAGES[kind]}"
                   f"{' of ' + committee if committee else ''}; no window opened")
    else:
        typer.echo(f"window {r['window']} ({kind}): {r['applications']} applications, "
                   f"{r['opens_on']} to {r['closes_on']} (ends {r['ends_at']})\n"
                   f"list: {r['list_pdf']}\n      {r['list_xlsx']}")


@publicity_app.command("close-due")
@guarded
def close_due(as_of: str = AsOfOption, as_json: bool = JsonOption) -> None:
    """Close every window whose end has passed; applications without an open objection move on."""
    from zhicheng.cli.progress import run
    from zhicheng.flows.publicity import publicity_close_due
    r = run(publicity_close_due, as_json=as_json, as_of=as_of)
    if as_json:
        print_json(r)
    else:
        typer.echo(f"关闭的公示：{'、'.join(map(str, r['closed_windows'])) or '无'}；"
                   f"进入下一环节 {r['passed']} 件，因异议暂缓 {r['held']} 件，异议成立移出 {r['removed']} 件，"
                   f"已撤回（取消申请） {r['withdrawn']} 件，未能推进（见日志） {r['problems']} 件")


@publicity_app.command("list")
@guarded
def list_(as_json: bool = JsonOption) -> None:
    """The windows, newest first."""
    from sqlalchemy import select

    from zhicheng.domain.publicity import ENTRY_OUTCOMES, ENTRY_WORDS
    from zhicheng.publicity.models import PublicityWindow
    from zhicheng.publicity.service import describe, entry_counts
    app = app_at(None)
    with app.sessions() as s:
        counts = entry_counts(session=s)
        rows = [{**describe(w), "entries": counts.get(w.id, {})}
                for w in s.scalars(select(PublicityWindow).order_by(PublicityWindow.id.desc()))]
    if as_json:
        print_json(rows)
    else:
        print_table("公示", ["公示编号", "类型", "评委会", "开始", "结束", "状态", "名单"],
                    [[r["window"], r["kind"], r["committee"], r["opens_on"], r["closes_on"],
                      {"open": "公示中", "closed": "已结束"}.get(r["status"], r["status"]),
                      "，".join(f"{ENTRY_WORDS[o]} {r['entries'][o]}" for o in ENTRY_OUTCOMES if o in r["entries"])]
                     for r in rows])


@objections_app.command("import")
@guarded
def objections_import(file: Path = typer.Argument(..., help="CSV or XLSX (format: docs/publicity.md)"),
                      as_of: str = AsOfOption, as_json: bool = JsonOption) -> None:
    """Lodge objections and record decisions on them (成立 removes, 不成立 lets it go on)."""
    from zhicheng.db.engine import unit_of_work
    from zhicheng.files.tables import FileRefused
    from zhicheng.publicity.service import import_objections
    from zhicheng.quality.file_checks import check_file
    app = app_at(as_of)
    check_file(app, "objections", file)  # the data team's view (Data Docs); the import decides
    try:
        with unit_of_work(app.sessions) as s:
            r = import_objections(session=s, path=file, config=app.config, now=app.clock.now())
    except FileRefused as exc:
        fail(str(exc))
    if as_json:
        print_json(r)
    else:
        st = r["settled"]
        typer.echo(f"{r['rows']} rows: {r['lodged']} objections lodged, {r['decided']} decided, "
                   f"{r['already_stored']} already stored; settled: moved on {st['passed']}, "
                   f"removed {st['removed']}, still held {st['held']}")


def register(app: typer.Typer) -> None:
    app.add_typer(publicity_app, name="publicity")
