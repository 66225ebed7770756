"""Commit subjects after the marker are at most 72 characters; the check reads git's own
history, so it runs in a checkout and skips (saying why) in a tarball."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from commit_subjects import LIMIT, history_problem, long_subjects
from source_tree import REPO


def test_every_commit_subject_after_the_marker_is_at_most_72_characters():
    problem = history_problem(REPO)
    if problem:
        pytest.skip(problem)
    too_long = long_subjects(REPO)
    assert not too_long, (f"subjects over {LIMIT} characters (say it shorter; the why goes in "
                          f"the body):\n" + "\n".join(f"{sha[:10]} ({len(s)}) {s}" for sha, s in too_long))


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org", "GIT_CONFIG_GLOBAL": "/dev/null",
           "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


def commit(repo: Path, subject: str) -> str:
    git(repo, "commit", "--allow-empty", "-q", "-m", subject, "-m", "why")
    return git(repo, "rev-parse", "HEAD")


def test_the_check_names_long_subjects_after_the_marker_only(tmp_path):
    git(tmp_path, "init", "-q", "-b", "main")
    commit(tmp_path, "x" * 100)                         # before the marker: history stays
    marker = commit(tmp_path, "Check commit subjects")
    exact = commit(tmp_path, "证" * LIMIT)               # characters, not bytes
    git(tmp_path, "checkout", "-q", "-b", "side")
    long = commit(tmp_path, "y" * (LIMIT + 1))
    git(tmp_path, "checkout", "-q", "main")
    git(tmp_path, "merge", "-q", "--no-ff", "--no-edit", "side")   # "Merge branch 'side'"
    assert history_problem(tmp_path, marker) is None
    assert long_subjects(tmp_path, marker) == [(long, "y" * (LIMIT + 1))]
    assert exact in git(tmp_path, "log", "--format=%H", f"{marker}..HEAD").split()  # checked, and kept


def test_without_history_the_check_says_why_it_cannot_run(tmp_path):
    assert "not a git checkout" in history_problem(tmp_path)
    git(tmp_path, "init", "-q")
    commit(tmp_path, "Start")
    assert "does not reach" in history_problem(tmp_path, "0" * 40)
