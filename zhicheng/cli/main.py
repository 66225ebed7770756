"""The `zhicheng` command (cli.md): one verb per job, the same code the flows run.

Each verb module has `register(app)`; add a new one to VERB_MODULES.
"""
from __future__ import annotations

import typer

from zhicheng.cli import demo, reference

VERB_MODULES = (reference, demo)

app = typer.Typer(
    name="zhicheng",
    help="zhicheng: the back office of the 职称 system (intake to certificates).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
for _module in VERB_MODULES:
    _module.register(app)


if __name__ == "__main__":
    app()
