"""Flow `validate` and `zhicheng validate`: chunks in parallel, a summary artifact,
two runs leave exactly one return per failing application."""
from __future__ import annotations

import json

import pytest
from prefect.artifacts import Artifact
from sqlalchemy import func, select
from typer.testing import CliRunner

import hostile_pdfs as h
from validation_data import replace_file, store, submission
from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import Application, OutboxItem

pytestmark = pytest.mark.usefixtures("prefect_harness")
AS_OF = "2026-06-20T10:00:00+08:00"


@pytest.fixture
def five(app, monkeypatch):
    """Five applications, chunks of two; the second and fifth carry errors."""
    monkeypatch.setitem(app.config.policy.chunks, "validation", 2)
    with unit_of_work(app.sessions) as s:
        for n in range(1, 6):
            sub, files = submission(n)
            if n in (2, 5):
                sub = replace_file(sub, files, "M03", h.text_pdf(1, blank_after=True))
            store(s, sub, files, files_root=app.settings.home, committees=app.config.committees)


def hall_returns(app) -> list[str]:
    with app.sessions() as s:
        return sorted(s.scalars(select(OutboxItem.dedupe_key).where(OutboxItem.target == "hall_return")))


def test_two_runs_return_each_failing_application_once(app, five):
    from zhicheng.flows.validation import validate
    first = validate(as_of=AS_OF)
    assert (first["pending"], first["chunks"], first["passed"], first["returned"]) == (5, 3, 3, 2)
    assert first["findings"] == {"material.blank_page": 2}
    table = json.loads(Artifact.get("validate").data)
    assert {"项目": "问题", "代码": "material.blank_page", "数量": 2} in table
    assert {"项目": "退回", "代码": "returned", "数量": 2} in table
    again = validate(as_of=AS_OF)
    assert again["pending"] == 0 and again["applications"] == 0
    assert hall_returns(app) == ["return:JS2026000002:r1:评审申报", "return:JS2026000005:r1:评审申报"]


def test_the_cli_verb(app, five):
    from zhicheng.cli.main import app as cli
    got = CliRunner().invoke(cli, ["validate", "--as-of", AS_OF, "--json"])
    assert got.exit_code == 1, got.output            # applications were returned
    assert json.loads(got.stdout)["returned"] == 2
    again = CliRunner().invoke(cli, ["validate", "--as-of", AS_OF, "--json"])
    assert again.exit_code == 0 and json.loads(again.stdout)["applications"] == 0
    with app.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Application).where(Application.status == "received")) == 0
