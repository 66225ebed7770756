"""The `zhicheng` command (cli.md): one verb per job, the same code the flows run.

Each verb module zhicheng/cli/<name>.py has `register(app)`; add its name to
VERB_MODULES (one a line).
"""
from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib import import_module
from importlib.metadata import version
from typing import Any

import typer
from typer.core import TyperGroup

try:  # typer vendors click since 0.22; older ones use click itself
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover
    from click import ClickException  # type: ignore[assignment]  # the class typer vendors later

VERB_MODULES = (
    "reference",
    "demo",
    "serve",
    "ui",
    "year_end",
    "standins",
    "education",
    "issuance",
    "show",
    "votes",
    "publicity",
    "delivery",
    "review",
    "generate",
    "intake",
    "validation",
    "quality",
    "web",
    "export",
)



class _Commands(TyperGroup):
    """The verbs; with --json a usage error (unknown option, bad value) is a JSON error
    object on stdout too, like every other failure (zhicheng.cli.output)."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             windows_expand_args: bool = True, **extra: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        if "--json" not in argv:
            return super().main(argv, prog_name, complete_var, standalone_mode, windows_expand_args, **extra)
        from zhicheng.cli.output import print_json_error
        try:
            code = super().main(argv, prog_name, complete_var, False, windows_expand_args, **extra)
        except ClickException as exc:
            exc.show()
            print_json_error(exc.format_message(), exc.exit_code)
            code = exc.exit_code
        except typer.Abort:
            code = 1
        code = code if isinstance(code, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code


app = typer.Typer(
    name="zhicheng",
    cls=_Commands,
    help="zhicheng: the back office of the 职称 system (intake to certificates).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(shown: bool) -> None:
    if shown:
        typer.echo(f"zhicheng {version('zhicheng')} (Python {sys.version.split()[0]}, "
                   f"Prefect {version('prefect')})")
        raise typer.Exit()


@app.callback()
def _options(_: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                    help="Print the version of zhicheng (and of Python and Prefect) and exit.")
             ) -> None:
    """zhicheng: the back office of the 职称 system (intake to certificates)."""
    # What any verb writes is its user's alone (docs/privacy.md), whatever it writes with.
    from zhicheng.private_files import restrict_umask
    restrict_umask()


for _name in VERB_MODULES:
    import_module(f"zhicheng.cli.{_name}").register(app)


if __name__ == "__main__":
    app()
