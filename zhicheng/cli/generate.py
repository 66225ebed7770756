"""`zhicheng generate`: write a synthetic batch year for the stand-ins (docs/year-directory.md)."""
from __future__ import annotations

from pathlib import Path

import typer

from zhicheng.cli.output import JsonOption, fail, guarded, print_json, print_table


@guarded
def generate(
    applications: int = typer.Option(..., "--applications", help="number of applications (submissions)"),
    seed: int = typer.Option(..., "--seed", help="seed: the same seed and count give the same bytes"),
    out: Path = typer.Option(..., "--out", help="directory to write (created; must be empty)"),
    batch_year: int = typer.Option(None, "--batch-year", help="batch year (default: config/generator.yaml)"),
    fault_rate: float = typer.Option(None, "--fault-rate", help="share of applications with a planted fault"),
    force: bool = typer.Option(False, "--force", help="replace a non-empty --out directory"),
    as_json: bool = JsonOption,
) -> None:
    """Generate a synthetic batch year: submissions, their files, 学信 records, planted faults."""
    from zhicheng.standins.generator import generate as run
    if applications < 1:
        fail("--applications must be at least 1")
    if fault_rate is not None and not 0 <= fault_rate <= 1:
        fail("--fault-rate must be between 0 and 1")
    try:
        manifest = run(out, applications=applications, seed=seed, batch_year=batch_year,
                       fault_rate=fault_rate, force=force)
    except FileExistsError as exc:
        fail(str(exc))
    if as_json:
        print_json({k: v for k, v in manifest.items() if k not in ("faults", "extras")}
                   | {"out": str(out), "faults": len(manifest["faults"])})
        return
    c = manifest["counts"]
    print_table(f"{manifest['batch_year']} 年度合成数据（种子 {manifest['seed']}）", ["项目", "数量"],
                [("提交的办件", c["submissions"]), ("申报材料", c["materials"]),
                 ("材料大小（MB）", f"{c['bytes'] / 1e6:.1f}"), ("预设的问题", c["faults"]),
                 ("学信网人员记录", c["chsi_people"]), ("学信网备案表", c["chsi_reports"])])
    typer.echo(f"written to {out}")


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)
