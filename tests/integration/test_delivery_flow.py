"""The `push` and `reconcile` flows and verbs over issued certificates, against the stand-ins."""
from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from tests.integration.delivery_data import statuses
from zhicheng.cli.main import app as cli
from zhicheng.db.engine import unit_of_work
from zhicheng.demo.issuance_samples import add_approved
from zhicheng.issuance import service as issuance

AS_OF = "2026-12-28T20:00:00+08:00"
runner = CliRunner()


@pytest.fixture
def issued(app, standins, monkeypatch):
    """Six certificates issued for real (PDFs, Merkle root), their records queued."""
    from zhicheng.tasks import delivery as tasks
    monkeypatch.setattr(tasks, "CLIENT_OPTIONS", {"sleep": lambda s: None})
    with unit_of_work(app.sessions) as s:
        add_approved(session=s, config=app.config, count=6)
    app.clock.set(app.clock.now().replace(year=2026, month=12, day=28))
    issuance.issue_batch(app=app, ctx=issuance.IssueContext.for_app(app))
    return standins


def run(*args):
    return runner.invoke(cli, [str(a) for a in args])


def test_push_then_reconcile_flows(app, prefect_harness, issued):
    from zhicheng.flows.delivery import push, reconcile
    summary = push(as_of=AS_OF)
    assert summary["province"]["counts"] == {"created": 6} and summary["hall"]["sent"] == 6
    assert summary["problems"] == {"rejected": 0, "dead": 0, "items": []}
    assert set(issued.province.applied_counts().values()) == {1} and len(issued.hall.notifications()) == 6
    report = reconcile(batch_year=2026, as_of=AS_OF, full=True)
    assert report["clean"] and report["scopes"][0]["compared"] and report["scopes"][0]["local"] == 6
    assert list((app.settings.home / "reports").glob("reconcile-2026-*.xlsx"))
    assert push(as_of=AS_OF)["province"]["batches"] == []


def test_verbs_exit_1_while_something_needs_a_human(app, prefect_harness, issued):
    issued.province.faults.set("batch_upsert", error_rate=1.0)
    r = run("reconcile", "--batch-year", 2026, "--as-of", AS_OF, "--json")
    assert r.exit_code == 1 and json.loads(r.stdout)["differences"]["missing"] == 6, r.output
    for hour in (20, 22, 23):  # max_attempts is 8 in policy.yaml: two left after these
        r = run("push", "--as-of", f"2026-12-28T{hour}:00:00+08:00")
        assert r.exit_code == 0 and "暂停" in r.stdout, r.output
    r = run("push", "--json", "--as-of", "2026-12-29T23:00:00+08:00")
    assert r.exit_code == 0 and json.loads(r.stdout)["province"]["paused"]
    issued.province.faults.clear()
    r = run("push", "--json", "--as-of", "2026-12-31T23:00:00+08:00")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["province"]["counts"] == {"created": 6}
    assert statuses(app) == {"sent": 6}  # reconcile queued nothing twice: they were pending
    r = run("reconcile", "--batch-year", 2026, "--as-of", "2026-12-31T23:00:00+08:00")
    assert r.exit_code == 0 and "报表" in r.stdout, r.output


def test_push_verb_lists_dead_letters_and_retries_them(app, prefect_harness, issued, monkeypatch, tmp_path):
    config = tmp_path / "config"   # one attempt before a dead letter
    shutil.copytree(app.config.directory, config)
    policy = (config / "policy.yaml").read_text(encoding="utf-8")
    assert "  max_attempts: 8" in policy
    (config / "policy.yaml").write_text(policy.replace("  max_attempts: 8", "  max_attempts: 1"), encoding="utf-8")
    monkeypatch.setenv("ZHICHENG_CONFIG_DIR", str(config))
    issued.province.faults.set("batch_upsert", error_rate=1.0)
    r = run("push", "--as-of", AS_OF)
    assert r.exit_code == 1 and "死信 6 条" in r.stdout and "省一体化平台" in r.stdout, r.output
    issued.province.faults.clear()
    r = run("push", "--retry-dead", "--json", "--as-of", AS_OF)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["province"]["counts"] == {"created": 6}


def test_push_without_province_settings_is_a_configuration_error(app, prefect_harness, issued, monkeypatch):
    monkeypatch.delenv("ZHICHENG_PROVINCE_URL")
    r = run("push", "--as-of", AS_OF)
    assert r.exit_code == 2 and "ZHICHENG_PROVINCE_URL" in r.output
