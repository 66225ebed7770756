"""The architecture of docs/architecture.md holds: import-linter checks the contracts of
pyproject.toml over the source as it installs, and each contract fails on a breach."""
from __future__ import annotations

import re
import tomllib
from importlib.metadata import packages_distributions, requires

from packaging.requirements import Requirement

from source_tree import PYPROJECT, lint_imports, stage

# One module that breaks each contract, as someone might write it.
BREACHES = {
    "Rules are pure": ("zhicheng/domain/_asks_the_clock.py", "from zhicheng.clock import SystemClock\n"),
    "The kernel": ("zhicheng/db/_reports.py", "from zhicheng.votes import service\n"),
    "Connectors": ("zhicheng/connectors/_stores.py", "from zhicheng.db.engine import unit_of_work\n"),
    "Stand-ins": ("zhicheng/standins/_borrows.py", "from zhicheng.connectors.hall import HallClient\n"),
    "Quality suites": ("zhicheng/expectations/_calls.py", "import zhicheng.quality.service\n"),
    "Features import": ("zhicheng/issuance/_runs_flows.py", "from zhicheng.flows import issuance\n"),
    "Features depend": ("zhicheng/review/_counts_votes.py", "from zhicheng.votes.models import Ballot\n"),
    "The product": ("zhicheng/delivery/_samples.py", "from zhicheng.demo import delivery_samples\n"),
    "Tasks": ("zhicheng/tasks/_composes.py", "import zhicheng.flows.votes\n"),
    "Flows import": ("zhicheng/flows/_asks.py", "from zhicheng.cli import output\n"),
    "Flows compose": ("zhicheng/flows/_stores.py", "from zhicheng.db.engine import unit_of_work\n"),
}
# What a flow may import besides the standard library and the flows (pyproject.toml,
# the flows-compose-tasks contract): everything else is forbidden to it.
FLOWS_MAY_IMPORT = {"zhicheng.flows", "zhicheng.tasks", "zhicheng.runtime", "zhicheng.runners", "zhicheng.clock",
                    "prefect"}


def contracts() -> list[dict]:
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]


def test_the_source_keeps_every_architecture_contract(tmp_path):
    got = lint_imports(stage(tmp_path))
    assert got.returncode == 0, got.stdout + got.stderr
    assert f"Contracts: {len(contracts())} kept, 0 broken." in got.stdout


def test_each_contract_fails_on_a_module_that_breaks_it(tmp_path):
    tree = stage(tmp_path)
    for path, source in BREACHES.values():
        (tree / path).write_text(source, encoding="utf-8")
    got = lint_imports(tree)
    assert got.returncode == 1, got.stdout + got.stderr
    assert f"Contracts: 0 kept, {len(contracts())} broken." in got.stdout, got.stdout
    for start, (path, _) in BREACHES.items():
        assert re.search(rf"^{re.escape(start)}.* BROKEN( \(.*\))?$", got.stdout, re.M), (start, got.stdout)
        assert path[:-3].replace("/", ".") in got.stdout, path


def test_the_pure_rules_contract_forbids_every_dependency():
    """A dependency added to pyproject.toml is forbidden to the rules too."""
    forbidden = set(next(c for c in contracts() if c["id"] == "pure-rules")["forbidden_modules"])
    tops: dict[str, set[str]] = {}
    for top, dists in packages_distributions().items():
        for dist in dists:
            tops.setdefault(_norm(dist), set()).add(top)
    direct = {_norm(r.name) for r in map(Requirement, requires("zhicheng") or []) if r.marker is None}
    assert direct, "zhicheng's installed metadata names no dependency"
    missing = {d: sorted(t for t in tops.get(d, ()) if not t.startswith("_") and t not in forbidden)
               for d in direct}
    assert not {d: m for d, m in missing.items() if m}, "add to pure-rules forbidden_modules"


def test_the_flows_contract_forbids_all_but_tasks_prefect_and_the_glue(tmp_path):
    """A new kernel module, feature or dependency is forbidden to the flows too."""
    forbidden = set(next(c for c in contracts() if c["id"] == "flows-compose-tasks")["forbidden_modules"])
    package = stage(tmp_path) / "zhicheng"
    modules = {f"zhicheng.{p.stem}" for p in package.iterdir()
               if (p.suffix == ".py" or (p / "__init__.py").exists()) and p.stem != "__init__"}
    dependencies = set(next(c for c in contracts() if c["id"] == "pure-rules")["forbidden_modules"]) - {"zhicheng.*"}
    assert FLOWS_MAY_IMPORT - {"prefect"} <= modules
    assert forbidden == (modules | dependencies) - FLOWS_MAY_IMPORT


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
