"""The source as it installs: one `zhicheng/` tree assembled from the folders that
pyproject.toml's `package-dir` maps (domain/ becomes zhicheng/domain/, ...).

import-linter (grimp) and mypy find a package's modules by walking its folder, and the
editable install maps `zhicheng.domain` to domain/ with an import hook they do not see;
so the checks run on a copy laid out as the installed package is. Copying the few
hundred small files takes a few milliseconds, and a test may add a violating module to
its own copy without touching the worktree.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = REPO / "pyproject.toml"
BIN = Path(sys.executable).parent


def setuptools_config() -> dict:
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["setuptools"]


def stage(dest: Path) -> Path:
    """Copy every mapped folder's Python files to dest/<package path>; returns dest."""
    package_dir = setuptools_config()["package-dir"]
    for package, folder in package_dir.items():
        source = REPO / folder
        target = dest.joinpath(*package.split("."))
        for path in source.rglob("*.py"):
            rel = path.relative_to(source)
            if "__pycache__" in rel.parts:
                continue
            # zhicheng/ holds only the core: the mapped folders are copied in their own turn
            if package == "zhicheng" and rel.parts[0] in {p.split(".")[1] for p in package_dir if "." in p}:
                continue
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target / rel)
    return dest


def run(tool: str, *args: str, tree: Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """A tool of this virtualenv on a staged tree (first on the path, so `zhicheng` is
    the copy and not the editable install)."""
    env = {**os.environ, "PYTHONPATH": str(tree), "NO_COLOR": "1"}
    return subprocess.run([str(BIN / tool), *args], cwd=cwd or tree, env=env,
                          capture_output=True, text=True, timeout=300)


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    """import-linter with the contracts of pyproject.toml."""
    return run("lint-imports", "--config", str(PYPROJECT), "--no-cache", "--no-logo", tree=tree)


def source_folders() -> list[Path]:
    """Every folder of Python the project keeps: the installed ones, tests/ and bench/."""
    folders = {REPO / f for f in setuptools_config()["package-dir"].values()}
    return sorted(folders | {REPO / "tests", REPO / "bench"})


def ruff(*paths: Path) -> subprocess.CompletedProcess:
    """ruff with the rules of pyproject.toml (no cache written into the worktree)."""
    return subprocess.run([str(BIN / "ruff"), "check", "--config", str(PYPROJECT), "--no-cache",
                           "--output-format", "concise", *map(str, paths)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)


def mypy(tree: Path) -> subprocess.CompletedProcess:
    """mypy with the settings of pyproject.toml (its `packages`, less its `exclude`) over
    a staged tree."""
    return run("mypy", "--config-file", str(PYPROJECT), "--cache-dir", str(tree / ".mypy_cache"),
               "--no-error-summary", tree=tree)


def mypy_covered(tree: Path) -> list[Path]:
    """The package folders of a staged tree that mypy checks: the `packages` of
    [tool.mypy] and every package below them, less those its `exclude` matches."""
    settings = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["mypy"]
    excluded = [re.compile(p) for p in settings.get("exclude", [])]
    folders = []
    for package in settings["packages"]:
        for init in sorted(tree.joinpath(*package.split(".")).rglob("__init__.py")):
            rel = init.parent.relative_to(tree).as_posix() + "/"
            if not any(p.search(rel) for p in excluded):
                folders.append(init.parent)
    return folders
