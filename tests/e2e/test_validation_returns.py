"""Done criterion of validation: on a generated year served by the hall, 学信 and
province stand-ins, intake, two runs of `validate` (which asks 学信 first) and two of `push`
leave exactly one return (one SMS) per failing application at the hall, with every
planted error among its reasons (学信's too), and none for a clean one."""
from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import func, select

from zhicheng.db.models import Application
from zhicheng.standins.generator import generate

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]
AS_OF = "2026-10-08T09:00:00+08:00"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    root = tmp_path_factory.mktemp("validation-e2e") / "year"
    return root, generate(root, applications=60, seed=17, fault_rate=0.6)


@pytest.fixture
def year_dir(generated):
    return generated[0]


@pytest.fixture
def wired(app, hall, chsi, province, standin_credentials, monkeypatch, year_dir, chunk_sizes):
    app_id, secret = standin_credentials
    for system, server in (("HALL", hall), ("CHSI", chsi), ("PROVINCE", province)):
        for key, value in {"URL": server.url, "APP_ID": app_id, "APP_SECRET": secret}.items():
            monkeypatch.setenv(f"ZHICHENG_{system}_{key}", value)
    chsi.today_fixed = dt.date.fromisoformat(AS_OF[:10])
    chunk_sizes(validation=16)
    return hall


def test_one_return_per_failing_application_after_two_runs(app, wired, generated):
    from zhicheng.flows.delivery import push
    from zhicheng.flows.intake import intake
    from zhicheng.flows.validation import validate
    _, manifest = generated
    assert intake(as_of=AS_OF)["received"] == 60
    for _ in range(2):
        validate(as_of=AS_OF)
        push(as_of=AS_OF)
    errors = {"warning", "review"}
    severity = {c: app.config.findings.make(c).severity for c in app.config.findings.codes()}
    failing = {f["submission_id"] for f in manifest["faults"] if severity[f["code"]] not in errors}
    assert any(f["code"].startswith("chsi.") and f["submission_id"] in failing for f in manifest["faults"])
    returns = wired.returns()
    per_submission = Counter(r["submission_id"] for r in returns)
    assert set(per_submission) == failing and set(per_submission.values()) == {1}
    assert len([s for s in wired.sms() if s["kind"] == "return"]) == len(failing)
    reasons = {r["submission_id"]: {x["code"] for x in r["reasons"]} for r in returns}
    for f in manifest["faults"]:
        if f["submission_id"] in failing and severity[f["code"]] not in errors:
            assert f["code"] in reasons[f["submission_id"]], f
    with app.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Application)
                        .where(Application.status == "received")) == 0   # 学信 and the province answered
