"""`zhicheng web staff ...` keeps accounts; `zhicheng web` serves (as an operator starts it)."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import select
from typer.testing import CliRunner

from zhicheng.cli.main import app as cli
from zhicheng.db.models import StaffAccount

pytestmark = pytest.mark.parametrize("empty_engine", ["sqlite"], indirect=True)


def test_staff_accounts_from_the_command_line(app, monkeypatch):
    runner = CliRunner()
    monkeypatch.setenv("PW", "a long enough password")
    ok = runner.invoke(cli, ["web", "staff", "add", "--username", "taizhou01", "--office", "泰州市职称办",
                             "--region", "321200", "--password-env", "PW", "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout) == {"username": "taizhou01", "office": "泰州市职称办", "region_code": "321200"}
    again = runner.invoke(cli, ["web", "staff", "add", "--username", "taizhou01", "--office", "x",
                                "--region", "321200", "--password-env", "PW"])
    assert again.exit_code == 2 and "exists already" in again.output
    monkeypatch.setenv("SHORT", "short")
    short = runner.invoke(cli, ["web", "staff", "add", "--username", "b", "--office", "x", "--region", "321200",
                                "--password-env", "SHORT"])
    assert short.exit_code == 2 and "12 characters" in short.output
    region = runner.invoke(cli, ["web", "staff", "add", "--username", "c", "--office", "x", "--region", "999999",
                                 "--password-env", "PW"])
    assert region.exit_code == 2 and "999999" in region.output
    assert runner.invoke(cli, ["web", "staff", "disable", "--username", "taizhou01"]).exit_code == 0
    with app.sessions() as s:
        account = s.scalar(select(StaffAccount))
        assert not account.active and account.password_hash.startswith("$argon2id$")
        assert "a long enough password" not in account.password_hash


def test_zhicheng_web_serves_until_stopped(app, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = (tmp_path / "web.log").open("w")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "zhicheng"), "web", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = requests.get(f"http://127.0.0.1:{port}/verify?no=320100202630000011&code=AAAA-BBBB-CCCC",
                                 timeout=5)
                break
            except requests.ConnectionError:
                assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "web.log").read_text()
                time.sleep(0.1)
        assert r.status_code in (400, 404) and "证书" in r.text
        assert "server" not in {k.lower() for k in r.headers}
    finally:
        proc.terminate()
        proc.wait(20)
    out = (tmp_path / "web.log").read_text()
    assert "GET /verify" in out and "AAAA-BBBB-CCCC" not in out and "320100202630000011" not in out
    assert (app.settings.home / "keys" / "web-session.key").stat().st_mode & 0o077 == 0
