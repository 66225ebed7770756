"""Certificate files on disk: written whole or not at all, and orphans swept.

A chunk writes its PDFs (temp file, fsync, rename) before its transaction commits. A
crash after a rename but before the commit leaves a file no row refers to: the next
run removes such orphans (and stray temp files) once they are older than the grace
period, so a chunk another worker is committing right now is left alone.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhicheng.issuance.models import Certificate
from zhicheng.private_files import TMP_SUFFIX, write_atomic  # noqa: F401  (issuance.service writes through it)


def fsync_dirs(paths: set[Path]) -> None:
    """Make the renames durable (once per folder, not per file)."""
    for folder in paths:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


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
