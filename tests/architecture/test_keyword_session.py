"""A database session is passed by keyword: `def f(*, session, ...)`, called as
`f(session=s, ...)` (docs/architecture.md, "Services, tasks, flows, CLI"). A positional
session reads as just another argument at the call site, and two functions of one
feature that disagree on where it goes make callers guess; so every function of the
source that takes a parameter named `session` takes it keyword-only."""
from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

from source_tree import REPO, setuptools_config


def positional_sessions(folders: Iterable[Path]) -> list[str]:
    """`path:line name` of each function (or method, or lambda) under folders whose
    `session` parameter can be given by position."""
    found = []
    for folder in folders:
        for path in sorted(folder.rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            functions = [node for node in ast.walk(tree)
                         if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))]
            for node in sorted(functions, key=lambda node: node.lineno):
                if "session" in {a.arg for a in node.args.posonlyargs + node.args.args}:
                    name = getattr(node, "name", "<lambda>")
                    found.append(f"{path.relative_to(folder.parent)}:{node.lineno} {name}")
    return found


def source_folders() -> list[Path]:
    """The folders that install as zhicheng (tests and benchmarks are not the source)."""
    return sorted({REPO / folder for folder in setuptools_config()["package-dir"].values()})


def test_no_function_of_the_source_takes_session_by_position():
    assert positional_sessions(source_folders()) == []


def test_a_positional_session_is_found_wherever_it_is(tmp_path):
    folder = tmp_path / "zhicheng"
    (folder / "feature").mkdir(parents=True)
    (folder / "feature" / "service.py").write_text(
        "def ok(*, session, n):\n    pass\n\n\n"
        "def also_ok(x, *args, session=None):\n    pass\n\n\n"
        "def first(session, n):\n    pass\n\n\n"
        "def after(ctx, session, *, n):\n    pass\n\n\n"
        "def only(session, /):\n    pass\n\n\n"
        "class Index:\n"
        "    @classmethod\n"
        "    def load(cls, session):\n        pass\n\n\n"
        "callback = lambda session: None  # noqa: E731\n",
        encoding="utf-8")
    found = positional_sessions([folder])
    assert found == ["zhicheng/feature/service.py:9 first", "zhicheng/feature/service.py:13 after",
                     "zhicheng/feature/service.py:17 only", "zhicheng/feature/service.py:23 load",
                     "zhicheng/feature/service.py:27 <lambda>"], found
