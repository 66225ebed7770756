"""`zhicheng stand-ins`: the stand-in hall, 学信 and province on loopback, until Ctrl-C."""
from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import typer

from zhicheng.cli.output import JsonOption, fail, guarded, print_json


@guarded
def stand_ins(
    year: Path = typer.Option(None, "--year", help="a year directory to load (docs/year-directory.md)"),
    port_base: int = typer.Option(8700, "--port-base",
                                  help="hall on P, 学信 on P+1, province on P+2 (0: free ports)"),
    state: Path = typer.Option(Path(".zhicheng/standins"), "--state",
                               help="folder of the servers' SQLite state (kept across restarts)"),
    app_id: str = typer.Option("zhicheng-dev", "--app-id", help="the app id the servers accept"),
    chsi_rate: float = typer.Option(None, "--chsi-rate", help="学信 rate limit, requests a second per app id"),
    seed: int = typer.Option(0, "--seed", help="seed of the switchable faults"),
    as_json: bool = JsonOption,
) -> None:
    """Start the stand-in hall, 学信 and province on 127.0.0.1 and print how to reach them.

    The app secret is ZHICHENG_STANDINS_APP_SECRET when set, else a fresh random one.
    """
    from zhicheng.standins.launch import start_standins
    if year is not None and not (year / "submissions.jsonl").exists():
        fail(f"--year {year} is not a year directory (no submissions.jsonl); see docs/year-directory.md")
    secret = os.environ.get("ZHICHENG_STANDINS_APP_SECRET")
    try:
        s = start_standins(year_dir=year, state_dir=state, port_base=port_base, app_id=app_id,
                           app_secret=secret, seed=seed, chsi_rate_limit=chsi_rate)
    except OSError as exc:
        fail(f"cannot listen on ports {port_base}..{port_base + 2} ({exc}); pick another --port-base")
    if as_json:
        print_json({"hall": s.hall.url, "chsi": s.chsi.url, "province": s.province.url,
                    "state": str(s.state_dir), "env": s.env()}, now=True)
    else:
        typer.echo(f"hall     {s.hall.url}\n学信     {s.chsi.url}\nprovince {s.province.url}")
        typer.echo(f"state    {s.state_dir}   ({s.hall.submission_count()} submissions loaded)")
        typer.echo("set these for the back office:")
        for key, value in s.env().items():
            typer.echo(f"export {key}={value}")
        typer.echo("Ctrl-C stops them.")
    sys.stdout.flush()   # a parent reading the pipe (the demo) learns the addresses now
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops them as cleanly as Ctrl-C
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        s.stop()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def register(app: typer.Typer) -> None:
    app.command("stand-ins")(stand_ins)
