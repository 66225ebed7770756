"""ruff over every folder of Python, mypy over all that installs as zhicheng (the kernel,
every feature package, and the dev-only demo/ and standins/): the source passes, and each
check fails on a module that breaks it."""
from __future__ import annotations

from source_tree import mypy, mypy_covered, ruff, source_folders, stage

PLANTED = "_wrong_type.py"


def test_the_source_passes_ruff():
    got = ruff(*source_folders())
    assert got.returncode == 0, got.stdout + got.stderr


def test_ruff_fails_on_an_unused_import_and_a_breakpoint(tmp_path):
    bad = tmp_path / "careless.py"
    bad.write_text("import os\n\n\ndef f():\n    breakpoint()\n", encoding="utf-8")
    got = ruff(bad)
    assert got.returncode == 1, got.stdout + got.stderr
    assert "F401" in got.stdout and "T100" in got.stdout, got.stdout


def test_the_product_type_checks_and_a_wrong_type_in_any_package_fails_it(tmp_path):
    # One mypy run (each more would add its time): a wrong type planted in every package
    # mypy covers must be its only findings, so the product is clean and no package is
    # left out of the check by accident.
    tree = stage(tmp_path)
    covered = mypy_covered(tree)
    planted = {(folder / PLANTED).relative_to(tree).as_posix() for folder in covered}
    for path in planted:
        (tree / path).write_text('def days() -> int:\n    return "3"\n', encoding="utf-8")
    got = mypy(tree)
    findings = [line for line in got.stdout.splitlines() if ": error:" in line]
    assert got.returncode == 1, got.stdout + got.stderr
    assert [f for f in findings if f.split(":")[0] not in planted] == [], "mypy on the product:\n" + got.stdout
    assert {f.split(":")[0] for f in findings if f.split(":")[1] == "2"} == planted, got.stdout
    assert {"zhicheng/domain", "zhicheng/votes", "zhicheng/db", "zhicheng/demo", "zhicheng/standins"} <= \
        {p.rsplit("/", 1)[0] for p in planted}
