"""Intake: take in what applicants submitted in the hall, exactly once in effect.

One page at a time from the stored cursor: the page's files are downloaded first
(content-addressed by SHA-256, written atomically, so a crash leaves at most an
unreferenced file that the next run reuses), then the page's submissions and the new
cursor are committed in one transaction, in a few set-based statements a table
(zhicheng.intake.storing). The hall delivers at least once; a
(submission_id, revision) already stored is a duplicate and changes nothing, a higher
revision supersedes the current one and keeps the history.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhicheng.config import Config
from zhicheng.db.batches import in_pages
from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import Material, SyncCursor
from zhicheng.domain.material_checks import Limits, download_cap
from zhicheng.domain.submission import key_of
from zhicheng.intake.files import DOWNLOADS_IN_FLIGHT, Fetched, FileKey, StoredFile, fetch_files, material_path
from zhicheng.intake.storing import declared, materials_of, store_page, store_submission, submission_stage
from zhicheng.private_files import TMP_SUFFIX

__all__ = ["Fetched", "FileKey", "StoredFile", "material_path", "store_page", "store_submission",
           "submission_stage"]

CURSOR = "hall.submissions"


@dataclass
class PageResult:
    received: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    files: int = 0
    bytes: int = 0
    next_cursor: str | None = None

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


def remove_partial_files(files_root: Path) -> int:
    """Delete the temporary files of downloads a killed run never renamed into place.

    Call it under the intake lock: one intake runs at a time, so every temporary file
    under materials/ is a dead run's. Finished (renamed) files are never touched; an
    unreferenced finished file is reused by the re-run, which fetches the same page."""
    root = files_root / "materials"
    stale = list(root.glob(f"*/*{TMP_SUFFIX}")) if root.is_dir() else []
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)


def current_cursor(*, session: Session) -> str | None:
    row = session.get(SyncCursor, CURSOR)
    return row.cursor if row else None


def pull_page(*, sessions: Any, hall: Any, config: Config, files_root: Path, now: dt.datetime,
              limit: int, fetch: Callable[[Mapping[FileKey, int]], dict[FileKey, Fetched]] | None = None
              ) -> PageResult:
    """Take in one page after the stored cursor; `next_cursor` None: nothing more for now.

    The page's missing files come first, each read up to its cap (download_cap), through
    `fetch` (zhicheng.intake.downloads.Downloader: worker processes) or, without one, from `hall`
    in this process. The hall's outage propagates: nothing of the page is stored and the
    cursor stays."""
    with sessions() as s:
        cursor = current_cursor(session=s)
    page = hall.submissions(cursor, limit)
    result = PageResult(received=len(page.items), next_cursor=page.next_cursor)
    with sessions() as s:
        files: dict[FileKey, Fetched] = dict(wanted(session=s, items=page.items, files_root=files_root))
    caps = download_caps(page.items, Limits.from_policy(config.policy.materials))
    missing = {k: caps[k] for k, v in files.items() if v is None}
    files.update(fetch(missing) if fetch else fetch_here(hall, missing, files_root))
    stored = [f for f in files.values() if isinstance(f, StoredFile)]
    result.files = len({f.sha256 for f in stored})
    result.bytes = sum(f.size for f in stored)
    with unit_of_work(sessions) as s:
        for outcome in store_page(session=s, items=page.items, files=files, config=config, now=now):
            result.count(outcome)
        if page.next_cursor is not None:
            row = s.get(SyncCursor, CURSOR) or SyncCursor(name=CURSOR)
            row.cursor, row.updated_at = page.next_cursor, now
            s.add(row)
    return result


def wanted(*, session: Session, items: list[Any], files_root: Path) -> dict[FileKey, StoredFile | None]:
    """The files of a page: those already in the workspace (a resubmission keeps most of
    its files, a duplicate all of them) filled in; the rest None, to be downloaded."""
    declared = {(key[0], m["material_id"]): _sha(m.get("sha256")) for item in items
                if (key := key_of(item)) is not None for m in materials_of(item)}
    known = _known(session=session, shas={sha for sha in declared.values() if sha}, files_root=files_root)
    return {k: known.get(sha) if sha else None for k, sha in declared.items()}


def download_caps(items: list[Any], limits: Limits) -> dict[FileKey, int]:
    """Bytes worth reading of each file of a page: its type's size limit, or its declared
    size when less (a 400 MiB "material" is refused after its first 500 KB)."""
    return {(key[0], m["material_id"]): download_cap(declared(m), limits) for item in items
            if (key := key_of(item)) is not None for m in materials_of(item)}


def _sha(v: Any) -> str | None:
    return v.lower() if isinstance(v, str) and len(v) == 64 else None


def _known(*, session: Session, shas: set[str], files_root: Path) -> dict[str, StoredFile]:
    """The files of these hashes already in the workspace (one query for the page)."""
    out: dict[str, StoredFile] = {}
    for page in in_pages(sorted(shas)):
        for sha, size, content_type, path in session.execute(
                select(Material.sha256, Material.size, Material.content_type, Material.storage_path)
                .where(Material.sha256.in_(page), Material.storage_path.is_not(None))):
            if sha not in out and (files_root / path).is_file():
                out[sha] = StoredFile(sha, size or 0, content_type, path)
    return out


def fetch_here(hall: Any, wants: Mapping[FileKey, int], files_root: Path,
               in_flight: int = DOWNLOADS_IN_FLIGHT) -> dict[FileKey, Fetched]:
    """Fetch in this process, `in_flight` at a time, each file up to its cap (bytes),
    durable under its final name on return (zhicheng.intake.files)."""
    return fetch_files(hall, wants, files_root, in_flight)
