"""The verbs as a user runs them: issue, verify, revoke, keys."""
from __future__ import annotations

import json

from sqlalchemy import select
from typer.testing import CliRunner

from zhicheng.cli.main import app as cli
from zhicheng.db.engine import unit_of_work
from zhicheng.demo.issuance_samples import add_approved
from zhicheng.issuance.models import Certificate

runner = CliRunner()


def run(*args):
    return runner.invoke(cli, [str(a) for a in args])


def test_issue_verify_revoke_from_the_command_line(app, prefect_harness, tmp_path):
    with unit_of_work(app.sessions) as s:
        add_approved(session=s, config=app.config, count=3)
    r = run("issue", "--batch-year", 2026, "--as-of", "2026-12-28T20:00:00+08:00", "--json")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["issued"] == 3 and summary["runs"][0]["merkle_root"]
    with app.sessions() as s:
        certs = s.scalars(select(Certificate).order_by(Certificate.id)).all()
    pdf = app.settings.home / certs[0].document_path
    r = run("verify", pdf)
    assert r.exit_code == 0 and r.stdout.startswith("valid"), r.output
    r = run("verify", "--number", certs[0].certificate_no, "--code", certs[0].verification_code, "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["outcome"] == "valid"
    bad = tmp_path / "bad.pdf"
    data = bytearray(pdf.read_bytes())
    data[200] ^= 0x20
    bad.write_bytes(bytes(data))
    r = run("verify", bad, "--json")
    assert r.exit_code == 1 and json.loads(r.stdout)["outcome"] == "tampered"
    r = run("revoke", "--number", certs[1].certificate_no, "--reason", "证书信息有误，撤销")
    assert r.exit_code == 0, r.output
    r = run("verify", app.settings.home / certs[1].document_path)
    assert r.exit_code == 1 and r.stdout.startswith("revoked") and "证书信息有误" in r.stdout
    # offline, with the exported keys only
    keys = tmp_path / "keys.json"
    assert run("keys", "export", "--out", keys).exit_code == 0
    r = run("verify", pdf, "--keys", keys)
    assert r.exit_code == 0, r.output


def test_usage_errors_exit_2(app):
    assert run("verify").exit_code == 2
    assert run("verify", "--number", "320100202630000011").exit_code == 2
    assert run("keys", "generate", "--issuer", "abc").exit_code == 2
    assert run("revoke", "--number", "320100202630000011", "--reason", "x").exit_code == 2
    r = run("keys", "generate", "--issuer", "320583", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["key_id"].startswith("320583-")
    assert "320583" in run("keys", "list").stdout
