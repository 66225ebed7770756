"""The command line's manners (cli.md): --version, one JSON document on stdout with
--json even when a verb fails, unknown batch years refused before any work, and verbs
that answer without a Prefect server when no Prefect API is configured."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from zhicheng.cli.main import app as cli

ZHICHENG = Path(sys.executable).parent / "zhicheng"
runner = CliRunner()


def test_version_names_the_release_and_what_it_runs_on():
    from importlib.metadata import version
    got = runner.invoke(cli, ["--version"])
    assert got.exit_code == 0
    assert got.stdout.startswith(f"zhicheng {version('zhicheng')} (Python ") and "Prefect 3." in got.stdout


def test_a_verb_with_nothing_to_do_answers_without_a_prefect_server(tmp_path):
    # No API and no temporary server allowed: on the code before this change the verb
    # died asking for one ("No Prefect API URL provided").
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API", "ZHICHENG_"))}
    env |= {"ZHICHENG_HOME": str(tmp_path), "PREFECT_SERVER_EPHEMERAL_ENABLED": "false",
            "PREFECT_HOME": str(tmp_path / "prefect")}
    for args in (["db", "upgrade", "--json"], ["validate", "--json"], ["push", "--json"]):
        got = subprocess.run([str(ZHICHENG), *args], env=env, capture_output=True, text=True, timeout=300)
        assert got.returncode == 0, got.stderr
        json.loads(got.stdout)
    assert not (tmp_path / "prefect" / "prefect.db").exists()   # Prefect stored nothing: it was not asked


@pytest.mark.parametrize("verb", [["quality"], ["year-end"], ["issue"], ["reconcile"]], ids=" ".join)
def test_an_unknown_batch_year_is_refused_with_exit_2_and_a_json_error(verb, tmp_path, monkeypatch):
    monkeypatch.setenv("ZHICHENG_HOME", str(tmp_path))
    got = runner.invoke(cli, [*verb, "--batch-year", "1999", "--json"])
    assert got.exit_code == 2, got.output
    error = json.loads(got.stdout)["error"]
    assert error["exit_code"] == 2 and error["meaning"] == "bad usage or configuration"
    assert "1999" in error["message"] and "policy.yaml" in error["message"]
    plain = runner.invoke(cli, [*verb, "--batch-year", "1999"])
    assert plain.exit_code == 2 and plain.stdout == "" and "1999" in plain.stderr


def test_the_year_end_verb_records_nothing_for_an_unknown_year(app):
    from zhicheng.year_end.models import YearEndStep
    got = runner.invoke(cli, ["year-end", "--batch-year", "1999"])
    assert got.exit_code == 2, got.output
    with app.sessions() as s:
        assert s.scalar(select(func.count()).select_from(YearEndStep)) == 0


def test_a_usage_error_with_json_is_a_json_error_too():
    got = runner.invoke(cli, ["validate", "--limit", "many", "--json"])
    assert got.exit_code == 2
    error = json.loads(got.stdout)["error"]
    assert error["exit_code"] == 2 and "--limit" in error["message"]
    unknown = runner.invoke(cli, ["push", "--nosuch", "--json"])
    assert unknown.exit_code == 2 and "--nosuch" in json.loads(unknown.stdout)["error"]["message"]


def test_a_verb_that_fails_before_it_has_a_document_says_so_in_json(tmp_path, monkeypatch):
    monkeypatch.setenv("ZHICHENG_HOME", str(tmp_path))
    monkeypatch.setenv("ZHICHENG_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    got = runner.invoke(cli, ["quality", "--json"])
    assert got.exit_code == 2
    assert json.loads(got.stdout) == {"error": {
        "exit_code": 2, "meaning": "bad usage or configuration",
        "message": "the database has no table applications, certificates, outbox; run `zhicheng db upgrade` first"}}


def test_a_verb_that_fails_after_its_document_adds_the_error_to_it(app):
    got = runner.invoke(cli, ["verify", "--number", "320100202630000060", "--code", "ABCD1234", "--json"])
    assert got.exit_code == 1
    doc = json.loads(got.stdout)
    assert doc["outcome"] == "unknown"
    assert doc["error"] == {"exit_code": 1, "meaning": "the work ran but something needs a human", "message": None}
