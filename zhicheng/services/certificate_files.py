"""Certificate files on disk: written whole or not at all, and orphans swept.

A chunk writes its PDFs (temp file, fsync, rename) before its transaction commits. A
crash after a rename but before the commit leaves a file no row refers to: the next
run removes such orphans (and stray temp files) once they are older than the grace
period, so a chunk another worker is committing right now is left alone.
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhicheng.db.models import Certificate

TMP_SUFFIX = ".tmp"


def write_atomic(path: Path, data: bytes) -> None:
    """Two writers of one path (intake's download threads fetching the same content for
    two applications) each use a temp file of their own; the last rename wins, and both
    wrote the same bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}-{threading.get_ident()}{TMP_SUFFIX}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def fsync_dirs(paths: set[Path]) -> None:
    """Make the renames durable (once per folder, not per file)."""
    for folder in paths:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def sweep_orphans(session: Session, *, home: Path, storage_dir: str,
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


def missing_files(session: Session, *, home: Path) -> list[str]:
    """Certificates whose PDF is not on disk (should never happen; reported if it does)."""
    rows = session.execute(select(Certificate.certificate_no, Certificate.document_path)
                           .where(Certificate.document_path.is_not(None))).all()
    return [no for no, rel in rows if not (home / rel).exists()]
