"""Commit subjects of at most 72 characters (the guide's rule), for the commits made
after the rule was checked: the history before it is left as it is, not rewritten."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

LIMIT = 72
# the last commit that landed before the check did (8e255cc, "Read-back: worker_pools
# ..."; the check's own first commit, e0f3446, did not land): older subjects are not
# checked. Every commit after it is, merges too (`git merge`'s own subjects are short).
MARKER = "8e255cc935a2ee39160d18b56c774830c8f4cc6d"


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=60)


def history_problem(repo: Path, marker: str = MARKER) -> str | None:
    """Why the subjects of `repo` cannot be checked here (None when they can): no git, a
    tarball, a copy inside another repository, a shallow clone without the marker."""
    if shutil.which("git") is None:
        return "git is not installed"
    top = _git(repo, "rev-parse", "--show-toplevel")
    if top.returncode != 0 or Path(top.stdout.strip()).resolve() != repo.resolve():
        return f"{repo} is not a git checkout (a tarball or an export)"
    if _git(repo, "merge-base", "--is-ancestor", marker, "HEAD").returncode != 0:
        return f"the history here does not reach {marker[:7]} (a shallow clone or an older branch)"
    return None


def long_subjects(repo: Path, marker: str = MARKER) -> list[tuple[str, str]]:
    """(hash, subject) of every commit after `marker` whose subject is too long."""
    log = _git(repo, "log", "--format=%H%x00%s", f"{marker}..HEAD")
    if log.returncode != 0:
        raise RuntimeError(log.stderr)
    commits = [line.split("\0", 1) for line in log.stdout.splitlines() if line]
    return [(sha, subject) for sha, subject in commits if len(subject) > LIMIT]
