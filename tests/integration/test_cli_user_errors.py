"""A fault the user can fix exits 2 with one line (zhicheng.errors.UserError, mapped once
by the CLI); a ValueError from a bug is a crash (exit 1), not the user's mistake."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from zhicheng.cli.main import app as cli
from zhicheng.cli.output import CRASHED

runner = CliRunner()
# how the CLI maps errors does not depend on the database: SQLite only
pytestmark = pytest.mark.parametrize("empty_engine", ["sqlite"], indirect=True)

# verb, the service it calls (where a bug is planted), what the user got wrong
VERBS = {
    "publicity open": (["publicity", "open", "--kind", "评前", "--committee", "NOSUCH"],
                       "zhicheng.publicity.service.open_window",
                       "committee 'NOSUCH' is not in config/committees.yaml"),
    "votes void": (["votes", "void", "--session", "S1", "--file", "b.csv", "--rows", "2", "--reason", " "],
                   "zhicheng.votes.service.void_ballots", "a reason is required to void ballots"),
    "keys generate": (["keys", "generate", "--issuer", "3201"],
                      "zhicheng.issuance.keys.KeyStore.generate",
                      "issuer must be its 6-digit region code, got '3201'"),
}


@pytest.mark.parametrize("verb", VERBS)
def test_a_user_error_exits_2_with_its_message(verb, app):
    args, _, message = VERBS[verb]
    got = runner.invoke(cli, [*args, "--json"])
    assert got.exit_code == 2, got.output
    assert json.loads(got.stdout)["error"]["message"] == message
    assert message in runner.invoke(cli, args).stderr


@pytest.mark.parametrize("verb", VERBS)
def test_a_bug_raising_value_error_is_a_crash_not_a_user_error(verb, app, monkeypatch):
    args, target, _ = VERBS[verb]

    def bug(*_args, **_kwargs):
        raise ValueError("invalid literal for int() with base 10: 'x'")
    monkeypatch.setattr(target, bug)
    got = runner.invoke(cli, [*args, "--json"])
    assert got.exit_code == 1 and isinstance(got.exception, ValueError)
    assert json.loads(got.stdout)["error"]["meaning"] == CRASHED
