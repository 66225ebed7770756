"""The Makefile takes the newest supported Python that runs here, and says what to
install when there is none (issue 26). Interpreters here are stand-in scripts on a PATH
of their own; `make -n` prints what it would run."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")


def fake_bin(tmp_path: Path, runs: list[str], broken: list[str]) -> Path:
    """`runs`: interpreters that run (this test's Python); `broken`: ones that exit 127
    as a pyenv shim of an inactive version does."""
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    for name in runs:
        (bin_ / name).write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    for name in broken:
        (bin_ / name).write_text("#!/bin/sh\necho \"pyenv: $0: command not found\" >&2\nexit 127\n")
    for p in bin_.iterdir():
        p.chmod(0o755)
    return bin_


def make(bin_: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([MAKE, "-C", str(REPO), *args], env={"PATH": str(bin_), "HOME": str(bin_.parent)},
                          capture_output=True, text=True, timeout=60)


def test_the_newest_supported_python_that_runs_is_taken(tmp_path):
    bin_ = fake_bin(tmp_path, runs=["python3.11", "python3.12"], broken=["python3.13"])
    got = make(bin_, "-n", "install", f"VENV={tmp_path / 'venv'}")
    assert got.returncode == 0, got.stderr
    assert f"python3.12 -m venv {tmp_path / 'venv'}" in got.stdout


def test_without_a_supported_python_make_says_what_to_install(tmp_path):
    bin_ = fake_bin(tmp_path, runs=[], broken=["python3.13", "python3.12", "python3.11"])
    got = make(bin_, "install", f"VENV={tmp_path / 'venv'}")
    assert got.returncode != 0 and not (tmp_path / "venv").exists()
    assert "None of python3.13, python3.12, python3.11 runs here" in got.stderr
    assert "Python 3.11, 3.12 or 3.13" in got.stderr and "apt install" in got.stderr
    assert "make install PYTHON=" in got.stderr


def test_a_named_python_outside_the_range_is_refused(tmp_path):
    bin_ = fake_bin(tmp_path, runs=[], broken=[])
    old = bin_ / "python3.10"
    old.write_text("#!/bin/sh\nexit 1\n")     # its version check fails, as 3.10's would
    old.chmod(0o755)
    got = make(bin_, "install", "PYTHON=python3.10", f"VENV={tmp_path / 'venv'}")
    assert got.returncode != 0 and "PYTHON=python3.10 is not Python 3.11 to 3.13" in got.stderr


def test_make_ui_opens_the_demos_prefect_database(tmp_path):
    bin_ = fake_bin(tmp_path, runs=["python3.13"], broken=[])
    got = make(bin_, "-n", "ui", f"VENV={tmp_path / 'venv'}")
    assert got.returncode == 0, got.stderr
    assert f"PREFECT_HOME={REPO}/.zhicheng/prefect {tmp_path / 'venv'}/bin/zhicheng ui --port 4200" in got.stdout
    demo = make(bin_, "-n", "demo", f"VENV={tmp_path / 'venv'}")
    assert f"PREFECT_HOME={REPO}/.zhicheng/prefect {tmp_path / 'venv'}/bin/zhicheng demo" in demo.stdout
