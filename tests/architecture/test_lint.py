"""ruff over every folder of Python, mypy over the pure rules: the source passes, and
each check fails on a module that breaks it."""
from __future__ import annotations

from source_tree import mypy, ruff, source_folders, stage

PLANTED = "zhicheng/domain/_wrong_type.py"


def test_the_source_passes_ruff():
    got = ruff(*source_folders())
    assert got.returncode == 0, got.stdout + got.stderr


def test_ruff_fails_on_an_unused_import_and_a_breakpoint(tmp_path):
    bad = tmp_path / "careless.py"
    bad.write_text("import os\n\n\ndef f():\n    breakpoint()\n", encoding="utf-8")
    got = ruff(bad)
    assert got.returncode == 1, got.stdout + got.stderr
    assert "F401" in got.stdout and "T100" in got.stdout, got.stdout


def test_the_pure_rules_type_check_and_a_wrong_type_fails_it(tmp_path):
    # One mypy run (a second would double the check's time): the planted module must be
    # its only finding, so the rules themselves are clean and the check can fail.
    tree = stage(tmp_path)
    (tree / PLANTED).write_text('def days() -> int:\n    return "3"\n', encoding="utf-8")
    got = mypy(tree, "zhicheng.domain")
    findings = [line for line in got.stdout.splitlines() if ": error:" in line]
    assert got.returncode == 1, got.stdout + got.stderr
    assert [f for f in findings if not f.startswith(PLANTED)] == [], "mypy on domain/:\n" + got.stdout
    assert any(f.startswith(f"{PLANTED}:2:") for f in findings), got.stdout
