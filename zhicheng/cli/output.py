"""How every verb speaks: tables for people, one JSON document with --json, and the
exit codes of cli.md (0 done, 1 needs a human, 2 bad usage or configuration)."""
from __future__ import annotations

import datetime as dt
import functools
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

EXIT_OK, EXIT_NEEDS_HUMAN, EXIT_BAD_USAGE = 0, 1, 2

console = Console()
err_console = Console(stderr=True)

JsonOption = typer.Option(False, "--json", help="Print one JSON document on stdout instead of tables.")


def _iso_moment(value: str | None) -> str | None:
    if value is not None:
        try:
            dt.datetime.fromisoformat(value)
        except ValueError:
            raise typer.BadParameter(f"{value!r} is not an ISO date-time "
                                     "(e.g. 2026-12-28T20:00:00+08:00)") from None
    return value


AsOfOption = typer.Option(None, "--as-of", callback=_iso_moment, metavar="ISO",
                          help="act as if it were this date-time (rehearsals, the demo); "
                               "without an offset it is Asia/Shanghai time")


def moment(as_of: str | None) -> dt.datetime | None:
    """The --as-of value as a time (the option has already checked it)."""
    from zhicheng.clock import typed_moment
    return typed_moment(dt.datetime.fromisoformat(as_of)) if as_of else None


def app_at(as_of: str | None):
    """The application, on a clock fixed at --as-of when one is given."""
    from zhicheng.bootstrap import build_app
    from zhicheng.clock import FixedClock
    return build_app(clock=FixedClock(moment(as_of)) if as_of else None)


def fail(message: str, code: int = EXIT_BAD_USAGE) -> NoReturn:
    """One line naming what is wrong and what to do, on stderr, then exit."""
    err_console.print(f"zhicheng: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def print_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n")


def print_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(title=title)
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    console.print(table)


def guarded(fn: Callable) -> Callable:
    """Turn the errors a user can fix into one-line messages with exit code 2."""
    from zhicheng.config import ConfigError
    from zhicheng.connectors.errors import Misconfigured
    from zhicheng.db.errors import MigrationRefused
    from zhicheng.domain.calendar import CalendarYearNotCovered
    from zhicheng.services.locks import AlreadyRunning

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ConfigError, CalendarYearNotCovered, Misconfigured, MigrationRefused) as exc:
            fail(str(exc))
        except AlreadyRunning as exc:
            fail(f"{exc}; try again when it has finished", EXIT_NEEDS_HUMAN)
    return wrapper
