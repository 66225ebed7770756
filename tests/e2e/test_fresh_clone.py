"""The README's two commands on a fresh clone, once on every supported Python (issue 26).

For each of Python 3.11, 3.12 and 3.13: clone this repository (its committed HEAD) to a
temporary folder and run `make demo` (on a small year) and `make test` (on one small
test file; CI runs the suite on the oldest and the newest Python too) with that
interpreter. A Python that is not on this machine is skipped with the reason, unless
ZHICHENG_REQUIRE_PYTHONS=1 (.ci/run), where that is a failure.

Each run installs the pinned set into a new virtualenv, so this takes minutes: it is
marked `fresh_clone` and left out of a plain `make test` (pyproject.toml addopts);
.ci/run runs it with `-m fresh_clone`.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SUPPORTED = ("3.11", "3.12", "3.13")
pytestmark = [pytest.mark.slow, pytest.mark.fresh_clone]


def interpreter(version: str) -> str | None:
    """python3.X on PATH if it runs (a pyenv shim of an inactive version does not),
    else a pyenv build of it, else None."""
    candidates = [f"python{version}"]
    if pyenv := shutil.which("pyenv"):
        root = subprocess.run([pyenv, "root"], capture_output=True, text=True).stdout.strip()
        builds = sorted(Path(root, "versions").glob(f"{version}.*/bin/python{version}"),
                        key=lambda p: [int(n) for n in re.findall(r"\d+", p.parts[-3])])
        candidates += [str(p) for p in reversed(builds)]
    for cmd in candidates:
        try:
            if subprocess.run([cmd, "-c", ""], capture_output=True, timeout=60).returncode == 0:
                return cmd
        except (OSError, subprocess.TimeoutExpired):
            continue
    return None


@pytest.mark.parametrize("version", SUPPORTED)
def test_the_readme_commands_work_on_a_fresh_clone(version, tmp_path):
    python = interpreter(version)
    if python is None:
        message = f"Python {version} is not installed here (no python{version}, no pyenv build of it)"
        if os.environ.get("ZHICHENG_REQUIRE_PYTHONS") == "1":
            pytest.fail(message + "; ZHICHENG_REQUIRE_PYTHONS=1 says it must be there")
        pytest.skip(message)
    clone = tmp_path / "zhicheng"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True, timeout=300)
    # A newcomer's environment: nothing of this run's make, Prefect or workspace.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ZHICHENG_", "PREFECT_", "MAKE", "MFLAGS", "VIRTUAL_ENV", "PYTEST"))
           and k not in ("PYTHON", "VENV", "PYTEST_ARGS", "DEMO_ARGS")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")

    def make(*args: str) -> subprocess.CompletedProcess:
        got = subprocess.run(["make", *args, f"PYTHON={python}"], cwd=clone, env=env, capture_output=True,
                             text=True, timeout=1800)
        assert got.returncode == 0, f"make {' '.join(args)} with {python}:\n{got.stdout[-3000:]}\n{got.stderr[-3000:]}"
        return got

    demo = make("demo", "DEMO_ARGS=--applications 16 --json")
    summary = json.loads(demo.stdout[re.search(r"^\{", demo.stdout, re.M).start():])
    assert summary["counts"]["certificates"] > 0, summary["counts"]
    assert subprocess.run([str(clone / ".venv" / "bin" / "python"), "-c",
                           "import sys; print('%d.%d' % sys.version_info[:2])"],
                          capture_output=True, text=True).stdout.strip() == version
    tests = make("test", "PYTEST_ARGS=tests/unit/test_calendar.py")
    assert re.search(r"\d+ passed", tests.stdout), tests.stdout[-2000:]
