"""The `zhicheng` command (cli.md): one verb per job, the same code the flows run.

Each verb module zhicheng/cli/<name>.py has `register(app)`; add its name to
VERB_MODULES (one a line).
"""
from __future__ import annotations

from importlib import import_module

import typer

VERB_MODULES = (
    "reference",
    "demo",
    "serve",
    "year_end",
    "standins",
    "education",
    "issuance",
    "votes",
    "publicity",
    "delivery",
    "review",
    "generate",
    "intake",
    "validation",
    "quality",
)

app = typer.Typer(
    name="zhicheng",
    help="zhicheng: the back office of the 职称 system (intake to certificates).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
for _name in VERB_MODULES:
    import_module(f"zhicheng.cli.{_name}").register(app)


if __name__ == "__main__":
    app()
