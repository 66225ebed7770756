"""A page's material files fetched from the hall into the workspace, made durable together.

Imports no database code: the download workers (zhicheng.intake.downloads) load only
this, the hall's client and the standard library (the ORM cost each spawned worker
about half a second).

Each file is read up to its cap, hashed and written content-addressed under a temporary
name, without an fsync of its own. Once the batch's files are written, one
`publish_durably` makes them all durable and then puts them in place (see there): a
file's final name never points at bytes that are not on disk, as with an fsync before
each rename, and the names themselves are on disk before the caller stores rows that
reference them. A crash at any point leaves temporary files (swept by the next run,
service.remove_partial_files) and whole files under their final names, which the re-run
reuses. One filesystem sync a batch instead of an fsync a file: a journal commit a batch
instead of one a file (about half the download workers' kernel time).
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zhicheng.connectors.hall import TooLarge
from zhicheng.private_files import publish_durably, write_unsynced

FileKey = tuple[str, str]   # (submission_id, material_id)
DOWNLOADS_IN_FLIGHT = 4     # files fetched at once by one process


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    content_type: str | None
    storage_path: str          # relative to the workspace


Fetched = StoredFile | TooLarge | None   # None: the hall does not have it (404)


def material_path(sha256: str) -> str:
    return f"materials/{sha256[:2]}/{sha256}"


def fetch_files(hall: Any, wants: Mapping[FileKey, int], files_root: Path,
                in_flight: int = DOWNLOADS_IN_FLIGHT) -> dict[FileKey, Fetched]:
    """Fetch in this process, `in_flight` at a time, each file up to its cap (bytes);
    every file returned is durable under its final name when this returns. On a failure
    (the hall's outage) the batch's unpublished files are removed and it propagates."""
    batch = _Batch(files_root)
    try:
        with ThreadPoolExecutor(max_workers=max(1, in_flight), thread_name_prefix="hall-files") as pool:
            got = dict(zip(wants, pool.map(lambda k: fetch_file(hall, k, wants[k], batch), wants), strict=True))
    except BaseException:
        batch.discard()
        raise
    batch.publish()
    return got


def fetch_file(hall: Any, key: FileKey, cap: int, batch: _Batch) -> Fetched:
    """One file from the hall (None: the hall does not have it, 404; TooLarge: it goes
    beyond `cap` bytes, and no more than that was read), written into `batch` under its
    SHA-256 unless the workspace or the batch has it already."""
    got = hall.material(*key, max_bytes=cap)
    if got is None or isinstance(got, TooLarge):
        return got
    sha = hashlib.sha256(got.content).hexdigest()
    rel = material_path(sha)
    batch.add(sha, rel, got.content)
    return StoredFile(sha, len(got.content), got.content_type, rel)


class _Batch:
    """Files written under temporary names, published together (`publish`)."""

    def __init__(self, files_root: Path) -> None:
        self.root = Path(files_root)
        self.claimed: dict[str, str] = {}
        self.moves: list[tuple[Path, Path]] = []

    def add(self, sha: str, rel: str, data: bytes | bytearray) -> None:
        # setdefault is atomic: of two threads with the same bytes, one writes them
        if self.claimed.setdefault(sha, rel) is not rel:
            return
        target = self.root / rel
        if target.is_file():   # published by an earlier batch or run: durable already
            return
        self.moves.append((write_unsynced(target, data), target))

    def publish(self) -> None:
        publish_durably(self.root, self.moves)
        self.moves = []

    def discard(self) -> None:
        for tmp, _ in self.moves:
            tmp.unlink(missing_ok=True)
        self.moves = []
