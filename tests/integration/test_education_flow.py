"""Flow `education_sync` and `zhicheng education-sync`: chunks, an outage that pauses, the next run."""
import json

import pytest
from prefect.artifacts import Artifact
from sqlalchemy import select
from typer.testing import CliRunner

from zhicheng.db.engine import unit_of_work
from zhicheng.education.models import EducationCheck

from education_data import RECORD, application, entry, person

pytest.importorskip("zhicheng.connectors.chsi", reason="the 学信 connector (issue 3) has not landed yet")
pytestmark = pytest.mark.usefixtures("prefect_harness")
AS_OF = "2026-06-01T10:00:00+08:00"


@pytest.fixture
def five(app, chsi, standin_credentials, monkeypatch, chunk_sizes):
    app_id, secret = standin_credentials
    for key, value in {"URL": chsi.url, "APP_ID": app_id, "APP_SECRET": secret}.items():
        monkeypatch.setenv(f"ZHICHENG_CHSI_{key}", value)
    chunk_sizes(education=2)
    with unit_of_work(app.sessions) as s:
        for n in range(5):
            chsi.add_person(*person(n), [RECORD])
            application(s, n=n, entries=[entry()], files_root=app.settings.home)
    return chsi


def outcomes(app):
    with app.sessions() as s:
        return sorted(s.scalars(select(EducationCheck.outcome)))


def test_an_outage_pauses_the_flow_and_the_next_run_finishes(app, five):
    from zhicheng.flows.education import education_sync
    five.faults.set("records", error_rate=1.0)
    first = education_sync(as_of=AS_OF)
    assert first["paused"] is True and first["checked"] == 2          # stopped after the first chunk
    assert outcomes(app) == ["unavailable"] * 2
    paused = Artifact.get("education-sync")
    assert "已暂停" in paused.description
    assert {"项目": "结果：学信网不可用", "数量": 2} in json.loads(paused.data)
    five.faults.clear()
    second = education_sync(as_of=AS_OF)
    assert second["paused"] is False and second["pending"] == 5
    assert outcomes(app) == ["verified"] * 5
    assert {"项目": "结果：一致", "数量": 5} in json.loads(Artifact.get("education-sync").data)
    assert education_sync(as_of=AS_OF)["pending"] == 0


def test_the_cli_verb(app, five):
    from zhicheng.cli.main import app as cli
    five.faults.set("*", error_rate=1.0)
    paused = CliRunner().invoke(cli, ["education-sync", "--as-of", AS_OF, "--json"])
    assert paused.exit_code == 1, paused.output
    five.faults.clear()
    done = CliRunner().invoke(cli, ["education-sync", "--as-of", AS_OF, "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["outcomes"] == {"verified": 5}
