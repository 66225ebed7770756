"""Files written whole or not at all, also when two threads write the same path at once
(intake downloads the same content for two applications in one page)."""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

from zhicheng.private_files import TMP_SUFFIX, write_atomic


def test_two_threads_writing_one_path_both_succeed(tmp_path, monkeypatch):
    both_written = threading.Barrier(2, timeout=10)
    real_replace = os.replace

    def replace_when_both_have_written(src, dst):
        both_written.wait()   # both temp files exist before either is renamed
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_when_both_have_written)
    target = tmp_path / "ab" / "content"
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = [pool.submit(write_atomic, target, b"same bytes") for _ in range(2)]
        for future in done:
            future.result()
    assert target.read_bytes() == b"same bytes"
    assert not list(target.parent.glob(f"*{TMP_SUFFIX}"))


def test_a_rewrite_replaces_the_whole_file(tmp_path):
    target = tmp_path / "f"
    write_atomic(target, b"first, longer content")
    write_atomic(target, b"second")
    assert target.read_bytes() == b"second"
