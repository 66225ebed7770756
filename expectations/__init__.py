"""Data-quality suites as code (issue 11), run with great-expectations.

Each module builds one suite from `Params` (engine dialect, batch year, clock, policy)
as named SQL checks (expectations.spec); expectations.gx turns them into
great-expectations expectations, expectations.project keeps them in the workspace's
GX project (ZHICHENG_HOME/gx) and validates them there, with offline Data Docs
(expectations.offline_docs), and expectations.runner reads the results. Importing this package does not import
great-expectations (slow to import): the CLI stays quick.
"""
from __future__ import annotations

from importlib import import_module
from typing import Literal, get_args

from zhicheng.expectations.spec import Params, Suite

SuiteName = Literal["applications", "materials", "decisions", "ballots", "certificates", "outbox"]
SUITE_NAMES: tuple[str, ...] = get_args(SuiteName)  # a deployment's `suite` is a choice of these


def build_suite(name: str, params: Params) -> Suite:
    if name not in SUITE_NAMES:
        raise KeyError(f"unknown suite {name!r}; one of {', '.join(SUITE_NAMES)}")
    return import_module(f"zhicheng.expectations.{name}").suite(params)
