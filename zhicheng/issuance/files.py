"""Certificate files on disk: written whole or not at all, and orphans swept.

A chunk writes its PDFs (temp file, fsync, rename) before its transaction commits. A
crash after a rename but before the commit leaves a file no row refers to: the next
run removes such orphans (and stray temp files) once they are older than the grace
period, so a chunk another worker is committing right now is left alone.

The PDFs are written on a few threads (`Writing`) while the chunk writes its rows: one
after another, each file's fsync waited for the disk alone (5-8 ms a file on this
machine's ext4, more than laying the certificate out); several at once share the
journal's commits, and the rows go in meanwhile.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhicheng.issuance.models import Certificate
from zhicheng.private_files import fsync_each, write_atomic


WRITERS = 4   # files written at once: 250 took 0.6-0.7 ms a file, against 5-8 ms one by one


class Writing:
    """Files written (write_atomic) on WRITERS threads while the caller goes on. `wait`
    returns once every one is on disk and its folder's rename durable, or raises the
    first failure; leaving the block without it (the chunk failed) lets the writes under
    way end and starts no more: what was written is an orphan the sweep removes."""

    def __init__(self, files: Sequence[tuple[Path, bytes]]) -> None:
        self._folders = {path.parent for path, _ in files}
        self._pool = ThreadPoolExecutor(min(WRITERS, len(files)) or 1, thread_name_prefix="certificate-file")
        self._writes: list[Future] = [self._pool.submit(_write, path, data) for path, data in files]

    def __enter__(self) -> "Writing":
        return self

    def wait(self) -> None:
        for write in self._writes:
            write.result()
        self._pool.shutdown()
        fsync_each(self._folders)   # the renames: once a folder, not a file

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _write(path: Path, data: bytes) -> None:
    write_atomic(path, data)   # looked up at each call: the crash drills replace it




def sweep_orphans(*, session: Session, home: Path, storage_dir: str,
                  grace_seconds: float) -> list[str]:
    """Remove files under the store that no certificate refers to; returns their paths."""
    root = home / storage_dir
    if not root.exists():
        return []
    known = set(session.scalars(select(Certificate.document_path)
                                .where(Certificate.document_path.is_not(None))))
    cutoff = time.time() - grace_seconds
    removed = []
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        rel = path.relative_to(home).as_posix()
        if rel in known:
            continue
        try:
            if path.stat().st_mtime <= cutoff:
                path.unlink()
                removed.append(rel)
        except FileNotFoundError:  # another sweep got there first
            pass
    return removed


def missing_files(*, session: Session, home: Path) -> list[str]:
    """Certificates whose PDF is not on disk (should never happen; reported if it does)."""
    rows = session.execute(select(Certificate.certificate_no, Certificate.document_path)
                           .where(Certificate.document_path.is_not(None))).all()
    return [no for no, rel in rows if not (home / rel).exists()]
