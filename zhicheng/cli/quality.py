"""`zhicheng quality [--suite NAME]`: run the data-quality suites, write Data Docs.

Exit 1 when an expectation fails, listing the rows (application ids, certificate
numbers, ...) that fail it. great-expectations is imported only when the verb runs.

Another quality run (a scheduled one) or a staff file's check holding the GX project:
the verb exits 1 at once saying so, as `intake` and `year-end` do, unless `--wait
SECONDS` lets it wait (the flow it runs waits as long as it is told).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from zhicheng.cli.output import EXIT_NEEDS_HUMAN, AsOfOption, JsonOption, fail, guarded, print_json, print_table
from zhicheng.expectations import SUITE_NAMES

SHOWN_ROWS = 20


@guarded
def quality(
    suite: str = typer.Option(None, "--suite", help=f"only this suite: {', '.join(SUITE_NAMES)}"),
    batch_year: int = typer.Option(None, "--batch-year", help="only applications of this batch year"),
    as_of: str = AsOfOption,
    wait: float = typer.Option(0, "--wait", help="seconds to wait if another quality run or a file "
                               "check is using the GX project (default: exit at once)"),
    as_json: bool = JsonOption,
) -> None:
    """Run the data-quality suites (great-expectations) and write Data Docs."""
    if suite is not None and suite not in SUITE_NAMES:
        fail(f"--suite {suite!r} is not a suite; one of {', '.join(SUITE_NAMES)}")
    from zhicheng.cli.output import app_at
    from zhicheng.cli.progress import run
    from zhicheng.config import require_batch_year
    from zhicheng.flows.quality import quality as flow
    from zhicheng.locks import AlreadyRunning
    from zhicheng.quality import service
    app = app_at()
    require_batch_year(app.config, batch_year)
    _check_database(app)
    try:
        brief = run(flow, as_json=as_json, suite=suite, batch_year=batch_year, as_of=as_of,
                    wait_seconds=max(wait, 0))
    except AlreadyRunning as exc:
        fail(f"另一个数据质量检查（或文件检查）正在使用 GX 项目（{exc}）；等它结束后再试，"
             f"或加 --wait 秒数等待它", EXIT_NEEDS_HUMAN)
    report = json.loads((Path(brief["results"]) / "summary.json").read_text(encoding="utf-8"))
    if as_json:
        print_json(report)
    else:
        _print(report, service.failures(report))
    if not report["success"]:
        raise typer.Exit(EXIT_NEEDS_HUMAN)


def _check_database(app) -> None:
    from sqlalchemy import inspect
    from sqlalchemy.exc import SQLAlchemyError
    try:
        tables = set(inspect(app.engine).get_table_names())
    except SQLAlchemyError as exc:
        fail(f"the database cannot be read ({str(exc).splitlines()[0]}); check ZHICHENG_DATABASE_URL")
    missing = sorted({"applications", "certificates", "outbox"} - tables)
    if missing:
        fail(f"the database has no table {', '.join(missing)}; run `zhicheng db upgrade` first")


def _print(report: dict[str, Any], failed: list[dict[str, Any]]) -> None:
    print_table(f"数据质量检查 {report['run_id']}", ["套件", "期望", "结果", "不符合行数"],
                [[s["suite"], c["check"], "通过" if c["success"] else ("出错" if c["error"] else "不符合"),
                  c["unexpected_count"] if c["unexpected_count"] is not None else "-"]
                 for s in report["suites"] for c in s["checks"]])
    for f in failed:
        typer.echo(f"\n{f['suite']}.{f['check']}：{f['description']}")
        if f["error"]:
            typer.echo(f"  出错：{f['error']}")
        for row in f["rows"][:SHOWN_ROWS]:
            typer.echo("  " + ", ".join(f"{k}={v}" for k, v in row.items()))
        more = (f["unexpected_count"] or 0) - min(len(f["rows"]), SHOWN_ROWS)
        if more > 0:
            typer.echo(f"  ……另有 {more} 行（见 Data Docs）")
    typer.echo(f"\nData Docs: {report['data_docs']}")
    typer.echo(f"结果文件：{report['results']}")


def register(app: typer.Typer) -> None:
    app.command("quality")(quality)
