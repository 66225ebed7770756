"""`zhicheng export DATASET`: the registry's applications, decisions, certificates or
deliveries as CSV, XLSX or Parquet, for a batch year or a region, personal data masked
(zhicheng.datasets; --unmasked only where the deployment grants it)."""
from __future__ import annotations

from pathlib import Path

import typer

from zhicheng.cli.output import JsonOption, fail, guarded, print_json, print_table

DATASET_NAMES = ("applications", "decisions", "certificates", "deliveries")


@guarded
def export(
    dataset: str = typer.Argument(..., help=f"one of {', '.join(DATASET_NAMES)}"),
    fmt: str = typer.Option("csv", "--format", help="csv, xlsx or parquet"),
    out: Path = typer.Option(None, "--out", help="the file to write (default: ZHICHENG_HOME/exports/...)"),
    batch_year: int = typer.Option(None, "--batch-year", help="only this batch year"),
    region: str = typer.Option(None, "--region",
                               help="only this GB/T 2260 region and what lies in it (32, 3201, 320102)"),
    unmasked: bool = typer.Option(False, "--unmasked",
                                  help="whole ID and phone numbers (needs ZHICHENG_EXPORT_UNMASKED=true)"),
    as_json: bool = JsonOption,
) -> None:
    """Export a dataset of the registry (personal data masked) to CSV, XLSX or Parquet."""
    if dataset not in DATASET_NAMES:
        fail(f"{dataset!r} is not a dataset; one of {', '.join(DATASET_NAMES)}")
    if fmt not in ("csv", "xlsx", "parquet"):
        fail(f"--format {fmt!r}: one of csv, xlsx, parquet")
    from zhicheng.cli.output import app_at
    from zhicheng.datasets import NotAllowed, region_prefix
    from zhicheng.datasets import export as service
    if region is not None:
        try:
            region_prefix(region)
        except ValueError as exc:
            fail(f"--region: {exc}")
    app = app_at()
    try:
        done = service.export(app=app, name=dataset, fmt=fmt, out=out, batch_year=batch_year,
                              region=region, unmasked=unmasked)
    except (NotAllowed, service.TooManyRows) as exc:
        fail(str(exc))
    if as_json:
        print_json(done)
        return
    print_table(f"zhicheng export {dataset}", ["what", "value"],
                [["rows", done["rows"]], ["personal data", "masked" if done["masked"] else "WHOLE"],
                 ["file", done["path"]]])


def register(app: typer.Typer) -> None:
    app.command("export")(export)
