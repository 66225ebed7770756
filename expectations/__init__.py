"""Data-quality suites as code (issue 11), run with great-expectations.

Each module builds one suite from `Params` (engine dialect, batch year, clock, policy)
as named SQL checks (expectations.spec); expectations.gx turns them into
great-expectations expectations and expectations.runner validates them against the
database and writes Data Docs. Importing this package does not import
great-expectations (slow to import): the CLI stays quick.
"""
from __future__ import annotations

from importlib import import_module

from zhicheng.expectations.spec import Params, Suite

SUITE_NAMES = ("applications", "materials", "decisions", "ballots", "certificates", "outbox")


def build_suite(name: str, params: Params) -> Suite:
    if name not in SUITE_NAMES:
        raise KeyError(f"unknown suite {name!r}; one of {', '.join(SUITE_NAMES)}")
    return import_module(f"zhicheng.expectations.{name}").suite(params)
