"""Flow `validate` and `zhicheng validate`: chunks in parallel, a summary artifact,
two runs leave exactly one return per failing application."""
from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import threading
from pathlib import Path

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
def five(app, monkeypatch, chunk_sizes):
    """Five applications, chunks of two; the second and fifth carry errors."""
    chunk_sizes(validation=2)
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
    assert table == [{"项目": "已校验办件", "数量": 5},
                     {"项目": "通过", "数量": 3},
                     {"项目": "退回修改", "数量": 2},
                     {"项目": "待学信核验", "数量": 0},
                     {"项目": "待省平台查证", "数量": 0},
                     {"项目": "跳过（已由其他运行处理）", "数量": 0},
                     {"项目": "检查的材料文件", "数量": 25},
                     {"项目": "审核发现 material.blank_page", "数量": 2}]
    progress = Artifact.get("validate-progress")         # three chunks: a bar in the run's Artifacts tab
    assert progress.data == 100.0 and progress.description == "材料校验（5 件，3 批）"
    again = validate(as_of=AS_OF)
    assert again["pending"] == 0 and again["applications"] == 0
    assert hall_returns(app) == ["return:JS2026000002:r1:评审申报", "return:JS2026000005:r1:评审申报"]


def test_the_cli_verb(app, five):
    from zhicheng.cli.main import app as cli
    got = CliRunner().invoke(cli, ["validate", "--as-of", AS_OF, "--json"])
    assert got.exit_code == 1, got.output            # applications were returned
    doc = json.loads(got.stdout)
    assert doc["returned"] == 2 and doc["error"]["exit_code"] == 1
    assert doc["error"]["meaning"] == "the work ran but something needs a human" and "退回" in doc["error"]["message"]
    assert "材料校验（" not in got.stderr            # --json: no progress
    again = CliRunner().invoke(cli, ["validate", "--as-of", AS_OF, "--json"])
    assert again.exit_code == 0 and json.loads(again.stdout)["applications"] == 0
    with app.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Application).where(Application.status == "received")) == 0


def test_the_cli_verb_shows_progress_in_plain_lines_off_a_terminal(app, five):
    from zhicheng.cli.main import app as cli
    got = CliRunner().invoke(cli, ["validate", "--as-of", AS_OF])
    assert got.exit_code == 1, got.output
    lines = got.stderr.splitlines()
    assert [line[9:] for line in lines if "材料校验（" in line] == \
        [f"材料校验（5 件，3 批）：{n}/3 批" for n in (1, 2, 3)]
    assert "\x1b" not in got.stderr                   # plain text: no bar, no colour


def test_the_cli_verb_shows_a_progress_bar_on_a_terminal_and_nothing_with_json(app, five):
    code, out, shown = on_a_terminal(["validate", "--as-of", AS_OF])
    assert code == 1 and "材料校验" in out          # the table, on stdout
    assert "材料校验（5 件，1 批）" in shown and "━" in shown and "1/1" in shown
    code, out, shown = on_a_terminal(["validate", "--as-of", AS_OF, "--json"])
    assert json.loads(out)["applications"] == 0    # validated by the run above
    assert "材料校验（" not in shown and "━" not in shown


def on_a_terminal(args: list[str]) -> tuple[int, str, str]:
    """`zhicheng ARGS` (a new process: it runs without Prefect here) with stderr on a
    pseudo-terminal: (exit code, stdout, what the terminal showed)."""
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120"}
    proc = subprocess.Popen([str(Path(sys.executable).parent / "zhicheng"), *args], stdout=subprocess.PIPE,
                            stderr=slave, env=env)
    os.close(slave)
    shown = bytearray()

    def read() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:       # EIO: the process closed the terminal
                return
            if not chunk:
                return
            shown.extend(chunk)
    reader = threading.Thread(target=read)
    reader.start()
    out, _ = proc.communicate(timeout=300)
    reader.join(timeout=30)
    os.close(master)
    return proc.returncode, out.decode(), shown.decode(errors="replace")


@pytest.fixture
def unchecked(app, monkeypatch):
    """Two applications 学信 has not checked yet; the second carries a validation error."""
    for key in ("URL", "APP_ID", "APP_SECRET"):
        monkeypatch.delenv(f"ZHICHENG_CHSI_{key}", raising=False)
    with unit_of_work(app.sessions) as s:
        for n in (1, 2):
            sub, files = submission(n)
            if n == 2:
                sub = replace_file(sub, files, "M03", h.text_pdf(1, blank_after=True))
            store(s, sub, files, files_root=app.settings.home, committees=app.config.committees,
                  chsi_checked=False)


def test_without_chsi_the_verdict_waits_and_nobody_is_returned(app, unchecked):
    from zhicheng.flows.validation import validate
    got = validate(as_of=AS_OF)
    assert got["chsi"] == {"asked": 2, "paused": False, "configured": False}
    assert (got["awaiting_chsi"], got["returned"], got["passed"]) == (2, 0, 0)
    assert hall_returns(app) == []
    assert {"项目": "待学信核验", "数量": 2} in json.loads(Artifact.get("validate").data)


def test_the_cli_verb_exits_2_while_chsi_is_not_configured(app, unchecked):
    from zhicheng.cli.main import app as cli
    got = CliRunner().invoke(cli, ["validate", "--as-of", AS_OF, "--json"])
    assert got.exit_code == 2, got.output
    assert json.loads(got.stdout[:got.stdout.rindex("}") + 1])["awaiting_chsi"] == 2
    assert "ZHICHENG_CHSI_URL" in got.output and hall_returns(app) == []


def test_the_flow_asks_chsi_first_and_an_outage_waits_for_the_next_run(app, unchecked, chsi, standin_credentials,
                                                                       monkeypatch):
    from zhicheng.flows.validation import validate
    app_id, secret = standin_credentials
    for key, value in {"URL": chsi.url, "APP_ID": app_id, "APP_SECRET": secret}.items():
        monkeypatch.setenv(f"ZHICHENG_CHSI_{key}", value)
    for sub in (submission(n)[0] for n in (1, 2)):
        e = sub["education"][0]
        chsi.add_person(sub["applicant"]["id_number"], sub["applicant"]["name"],
                        [{"record_id": "R", "study_form": "普通全日制", "enrollment_date": None,
                          **{k: e[k] for k in ("kind", "level", "school", "major", "graduation_date",
                                               "certificate_no")}}])
    chsi.faults.set("*", error_rate=1.0)
    down = validate(as_of=AS_OF)
    assert down["chsi"]["paused"] is True and (down["awaiting_chsi"], down["returned"]) == (2, 0)
    chsi.faults.clear()
    up = validate(as_of=AS_OF)
    assert up["chsi"] == {"asked": 2, "paused": False, "configured": True}
    assert (up["passed"], up["returned"], up["awaiting_chsi"]) == (1, 1, 0)
    assert validate(as_of=AS_OF)["pending"] == 0
    assert hall_returns(app) == ["return:JS2026000002:r1:评审申报"]
