"""How every verb speaks: tables for people, one JSON document with --json, and the
exit codes of cli.md (0 done, 1 needs a human, 2 bad usage or configuration).

With --json, stdout carries exactly one JSON document, failures included: the verb's
own document, with an `error` object added when it exits non-zero, or the `error`
object alone when it failed before it had one (`{"error": {"exit_code": 2, "meaning":
..., "message": ...}}`). The one-line message goes to stderr as well.
"""
from __future__ import annotations

import contextvars
import datetime as dt
import functools
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

EXIT_OK, EXIT_NEEDS_HUMAN, EXIT_BAD_USAGE = 0, 1, 2
EXIT_MEANINGS = {EXIT_OK: "done",
                 EXIT_NEEDS_HUMAN: "the work ran but something needs a human",
                 EXIT_BAD_USAGE: "bad usage or configuration"}
CRASHED = "unexpected error (a fault of zhicheng or of a system it uses); the traceback is on stderr"

console = Console()
err_console = Console(stderr=True)

JsonOption = typer.Option(False, "--json", help="Print one JSON document on stdout instead of tables.")


def _typed_moment(value: str | None) -> str | None:
    """--as-of as staff type it (zhicheng.clock.typed_time), passed on as ISO 8601 with
    its offset, so flows and tasks get one spelling."""
    from zhicheng.clock import TypedTimeError, typed_time
    if value is None:
        return None
    try:
        return typed_time(value, what="时间").isoformat()
    except TypedTimeError as exc:
        raise typer.BadParameter(str(exc)) from None


AsOfOption = typer.Option(None, "--as-of", callback=_typed_moment, metavar="TIME",
                          help="act as if it were this date-time (rehearsals, the demo), e.g. "
                               "2026-12-28 20:00; without an offset it is Asia/Shanghai time "
                               "(forms: docs/architecture.md#time)")


def moment(as_of: str | None) -> dt.datetime | None:
    """The --as-of value as a time (the option has already read it)."""
    from zhicheng.clock import typed_time
    return typed_time(as_of, what="--as-of") if as_of else None


def app_at(as_of: str | None = None):
    """The application (the process's, zhicheng.bootstrap.app_at), on a clock fixed at
    --as-of when one is given."""
    from zhicheng import bootstrap
    return bootstrap.app_at(as_of, what="--as-of")


@dataclass
class _Answer:
    """What a verb's run has to say on stdout with --json, written once as it ends."""
    as_json: bool
    doc: Any = None
    has_doc: bool = False
    written: bool = False
    message: str | None = None

    def finish(self, code: int, meaning: str | None = None) -> None:
        if not self.as_json or self.written:
            return
        error = {"exit_code": code, "meaning": meaning or EXIT_MEANINGS.get(code, "failed"),
                 "message": self.message}
        if self.has_doc and (code == EXIT_OK or isinstance(self.doc, dict)):
            _write_json(self.doc if code == EXIT_OK else {**self.doc, "error": error})
        elif code != EXIT_OK:
            _write_json({"error": error} | ({"result": self.doc} if self.has_doc else {}))
        self.written = True


_answer: contextvars.ContextVar[_Answer | None] = contextvars.ContextVar("zhicheng_answer", default=None)


def fail(message: str, code: int = EXIT_BAD_USAGE) -> NoReturn:
    """One line naming what is wrong and what to do, on stderr, then exit (with --json
    the message is in the `error` object on stdout too)."""
    err_console.print(f"zhicheng: {message}", markup=False, highlight=False, soft_wrap=True)
    if (answer := _answer.get()) is not None:
        answer.message = message
    raise typer.Exit(code)


def print_json(doc: Any, *, now: bool = False) -> None:
    """The verb's JSON document; written when the verb ends (so that a failure after it
    is added to it), or at once with `now` (a verb that then keeps running)."""
    answer = _answer.get()
    if answer is None or now:
        _write_json(doc)
        if answer is not None:
            answer.written = True
        return
    answer.doc, answer.has_doc = doc, True


def print_json_error(message: str, code: int) -> None:
    """An error object alone, for a failure outside any verb (a usage error)."""
    answer = _Answer(as_json=True, message=message)
    answer.finish(code)


def _write_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()


def print_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(title=title)
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    console.print(table)


def guarded(fn: Callable) -> Callable:
    """Turn the errors a user can fix into one-line messages with their exit code
    (zhicheng.errors.UserError carries it); any other exception is a crash (exit 1)."""
    from zhicheng.connectors.errors import Misconfigured
    from zhicheng.domain.calendar import CalendarYearNotCovered
    from zhicheng.errors import UserError
    from zhicheng.locks import AlreadyRunning

    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except UserError as exc:
            fail(str(exc), exc.exit_code)
        except (CalendarYearNotCovered, Misconfigured) as exc:  # rules and connectors import no core
            fail(str(exc))
        except AlreadyRunning as exc:
            fail(f"{exc}; try again when it has finished", EXIT_NEEDS_HUMAN)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        answer = _Answer(as_json=bool(kwargs.get("as_json")))
        token = _answer.set(answer)
        try:
            result = run(*args, **kwargs)
        except typer.Exit as exc:
            answer.finish(exc.exit_code)
            raise
        except Exception as exc:
            answer.message = f"{type(exc).__name__}: {exc}"
            answer.finish(EXIT_NEEDS_HUMAN, CRASHED)
            raise
        finally:
            _answer.reset(token)
        answer.finish(EXIT_OK)
        return result
    return wrapper
