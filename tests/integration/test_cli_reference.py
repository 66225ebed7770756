"""The reference verbs as a user runs them: output, --json, exit codes, messages."""
import json

import pytest
from typer.testing import CliRunner

from zhicheng.cli.main import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def workspace(tmp_path, monkeypatch):
    monkeypatch.setenv("ZHICHENG_HOME", str(tmp_path))
    monkeypatch.delenv("ZHICHENG_DATABASE_URL", raising=False)


def test_route_show_prints_one_stage_a_line():
    out = runner.invoke(app, ["route", "show", "--tier", "省", "--reporting", "省直", "--delegated", "no"])
    assert out.exit_code == 0
    assert out.stdout.splitlines() == ["评审申报", "单位审核、公示", "行政主管部门审核", "评委会审核",
                                       "职称管理部门审核", "评前公示", "专家评审", "评后公示", "职称管理部门发证"]


def test_route_show_json_and_bad_usage():
    out = runner.invoke(app, ["route", "show", "--tier", "县区", "--reporting", "县区级",
                              "--delegated", "yes", "--json"])
    doc = json.loads(out.stdout)
    assert doc["stages"][-1] == "评委会发证" and doc["delegated"] is True
    bad = runner.invoke(app, ["route", "show", "--tier", "乡", "--reporting", "省直", "--delegated", "no"])
    assert bad.exit_code == 2 and "--tier" in bad.stderr
    unknown = runner.invoke(app, ["route", "show", "--tier", "县区", "--reporting", "省直", "--delegated", "no"])
    assert unknown.exit_code == 2 and "县区/县区级" in unknown.stderr


def test_calendar_add_working_days():
    out = runner.invoke(app, ["calendar", "add-working-days", "2025-09-30", "5"])
    assert out.exit_code == 0 and out.stdout.strip() == "2025-10-13"
    doc = json.loads(runner.invoke(app, ["calendar", "add-working-days", "2025-06-07", "5", "--json"]).stdout)
    assert doc["last_day"] == "2025-06-13"


@pytest.mark.parametrize("args, words", [
    (["2099-01-05", "5"], "2099"),
    (["2025-13-01", "5"], "2026年6月3日"),
    (["2025-06-09", "0"], "at least 1"),
])
def test_calendar_errors_are_one_line_with_exit_2(args, words):
    out = runner.invoke(app, ["calendar", "add-working-days", *args])
    assert out.exit_code == 2 and words in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_db_upgrade_creates_and_reports(tmp_path):
    out = runner.invoke(app, ["db", "upgrade", "--json"])
    assert out.exit_code == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["committees"] > 0 and doc["revision"]
    again = runner.invoke(app, ["db", "upgrade", "--json"])
    assert json.loads(again.stdout)["revision"] == doc["revision"]


@pytest.mark.parametrize("file, old, new, words", [
    ("policy.yaml", "chunks:", "chunkz:", ["key chunkz", "Extra inputs are not permitted"]),
    ("policy.yaml", "chunks:", "chunks: [", ["not valid YAML", "line"]),
    ("policy.yaml", "pass: [2, 3]", "pass: [3, 2]", ["key vote.pass", "must be", "[3, 2]"]),
    ("policy.yaml", "quorum: [2, 3]", "quorum: [2]", ["key vote.quorum"]),
    ("policy.yaml", "min_working_days: 5", "min_working_days: 0",
     ["key publicity.min_working_days", "greater than or equal to 1"]),
    ("policy.yaml", "中级: 3", "中级: 4", ["key levels", "share a digit"]),
    ("policy.yaml", "issuance: 250", "issuance: lots", ["key chunks.issuance", "integer"]),
    ("committees.yaml", "members: 25", "members: 24", ["committees.0.members", "odd"]),
    ("committees.yaml", 'covered_regions: ["320000"]', 'covered_regions: ["329999"]',
     ["committees.0 (JS-GC-DQ-GJ)", "unknown region code 329999"]),
    ("committees.yaml", "levels: [副高级, 正高级]", "levels: [副高级, 特级]", ["unknown level 特级"]),
])
def test_broken_config_names_file_key_and_fault(tmp_path, monkeypatch, file, old, new, words):
    import shutil

    from zhicheng.config import get_config
    cfg = tmp_path / "cfg"
    shutil.copytree(get_config().directory, cfg)
    text = (cfg / file).read_text(encoding="utf-8")
    assert old in text, f"{file} no longer has {old!r}: update this test"
    (cfg / file).write_text(text.replace(old, new, 1), encoding="utf-8")
    monkeypatch.setenv("ZHICHENG_CONFIG_DIR", str(cfg))
    out = runner.invoke(app, ["db", "upgrade"])
    assert out.exit_code == 2 and file in out.stderr, out.stderr
    for w in words:
        assert w in out.stderr, (w, out.stderr)
    assert len(out.stderr.strip().splitlines()) <= 3, out.stderr   # a message, not a traceback


def test_db_upgrade_makes_an_older_workspace_private(tmp_path):
    """A workspace of an earlier version (0755 folders, 0644 files, the database among
    them) has no group or other permission left after `db upgrade` (docs/privacy.md)."""
    import os
    import stat
    old = os.umask(0o022)
    try:
        assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
        os.umask(0o022)                       # the verb set its own; the old version did not
        scan = tmp_path / "materials" / "ab" / "abcdef"
        scan.parent.mkdir(parents=True)
        scan.write_bytes(b"ID card scan")
        for p in [tmp_path, *tmp_path.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
        out = runner.invoke(app, ["db", "upgrade"])
    finally:
        os.umask(old)
    assert out.exit_code == 0, out.stderr
    assert "made private" in out.stdout
    left = [p for p in [tmp_path, *tmp_path.rglob("*")] if stat.S_IMODE(p.stat().st_mode) & 0o077]
    assert left == [] and stat.S_IMODE(scan.stat().st_mode) == 0o600
