"""The workspace (ZHICHENG_HOME) is private to the user that runs zhicheng.

It holds the SQLite database, applicants' uploads (ID-card scans among them),
certificates, signing keys and reports: folders are 0700 and files 0600, so no other
local user can list or read them (docs/privacy.md). Three layers keep it so:

- `restrict_umask()` at the entry points (the CLI, `build_app`): whatever a library
  writes (great-expectations' Data Docs, SQLite's -wal and -journal files, a Prefect
  server started from here) is created without group or other bits;
- explicit modes where we write: `private_dir`, `write_atomic` and `atomic_file` (the temp file gets its
  mode before the rename), `private_sqlite_file`;
- `tighten()` over a workspace made before this (`zhicheng db upgrade` runs it), since a
  umask does not change what exists.
"""
from __future__ import annotations

import ctypes
import logging
import os
import stat
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

DIR_MODE = 0o700
FILE_MODE = 0o600
UMASK = 0o077
TMP_SUFFIX = ".tmp"
_OPEN_TO_OTHERS = stat.S_IRWXG | stat.S_IRWXO
log = logging.getLogger(__name__)


def restrict_umask() -> None:
    """Files and folders this process (and its children) creates: owner only."""
    os.umask(UMASK)


def private_dir(path: Path) -> Path:
    """`path` and its missing parents, created 0700 (mkdir -p would give the parents the
    umask's mode). Folders that exist are left as they are: `tighten` is for those."""
    path = Path(path)
    missing = []
    for folder in (path, *path.parents):
        if folder.is_dir():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:  # another writer made it meanwhile
            continue
        os.chmod(folder, DIR_MODE)  # mkdir's mode passes through the umask
    return path


def close_to_others(folder: Path) -> Path:
    """The folder (created 0700 if missing) with no group or other permissions: what an
    earlier version left open is closed at once. A folder this user does not own is left
    as it is, with a warning (the workspace belongs to the user that runs zhicheng)."""
    folder = private_dir(folder)
    try:
        _tighten_one(folder)
    except PermissionError:
        log.warning("%s is open to other users and not this user's to close; "
                    "run zhicheng as the workspace's owner (docs/privacy.md)", folder)
    return folder


def write_atomic(path: Path, data: bytes) -> None:
    """Write `path` whole or not at all, 0600 (see `atomic_file`)."""
    with atomic_file(path) as fh:
        fh.write(data)


@contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A file written piece by piece (an export streamed chunk by chunk), that appears
    whole or not at all, 0600: a temp file of this process and thread (created 0600, so
    the bytes are never readable by others), fsync, rename; removed when the writing
    fails. Two writers of one path (intake's download threads fetching the same content
    for two applications) each use their own temp file; the last rename wins."""
    tmp, fd = _open_temp(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), FILE_MODE)  # a temp file left by a crash may have had another
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


def _open_temp(path: Path) -> tuple[Path, int]:
    """A temporary file of this process and thread next to `path`, opened for writing,
    0600 from its creation (so the bytes are never readable by others)."""
    tmp = Path(f"{path}.{os.getpid()}-{threading.get_ident()}{TMP_SUFFIX}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    try:
        return tmp, os.open(tmp, flags, FILE_MODE)
    except FileNotFoundError:   # its folder is new (one open, not a walk up the parents, a file)
        private_dir(tmp.parent)
        return tmp, os.open(tmp, flags, FILE_MODE)


def write_unsynced(path: Path, data: bytes | bytearray) -> Path:
    """`data` in a temporary file of this process and thread next to `path`, 0600, not
    yet synced: the caller publishes it with `publish_durably` (or removes it). Returns
    the temporary file's path."""
    tmp, fd = _open_temp(path)
    try:
        os.fchmod(fd, FILE_MODE)  # a temp file left by a crash may have had another
        view = memoryview(data)
        while view:   # one write for the whole file, unless the kernel takes less
            view = view[os.write(fd, view):]
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    return tmp


def publish_durably(root: Path, moves: list[tuple[Path, Path]]) -> None:
    """Rename each (temporary file, final path) of `moves`, all under `root` (one
    filesystem), so that a final name never points at bytes not yet on disk and every
    rename is on disk when this returns: the filesystem is synced once before the renames
    (the files' bytes) and once after (the renames), instead of an fsync a file. Where
    syncfs(2) is missing, each file and then each folder is fsynced."""
    if not moves:
        return
    _sync_files(root, [tmp for tmp, _ in moves])
    for tmp, target in moves:
        os.replace(tmp, target)
    _sync_files(root, sorted({target.parent for _, target in moves}))


def _sync_files(root: Path, paths: list[Path]) -> None:
    """Make `paths` (files or folders under `root`) durable: one syncfs of root's
    filesystem, or an fsync of each where the platform has no syncfs."""
    if _SYNCFS is not None:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            if _SYNCFS(fd) != 0:
                err = ctypes.get_errno()
                raise OSError(err, os.strerror(err), str(root))
        finally:
            os.close(fd)
        return
    fsync_each(paths)


def fsync_each(paths: Iterable[Path]) -> None:
    """fsync each file or folder of `paths` (a folder: the renames in it)."""
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _syncfs() -> Callable[[int], int] | None:
    """libc's syncfs (Linux), or None."""
    try:
        fn = getattr(ctypes.CDLL(None, use_errno=True), "syncfs", None)
    except OSError:
        return None
    if fn is not None:
        fn.argtypes, fn.restype = [ctypes.c_int], ctypes.c_int
    return fn


_SYNCFS = _syncfs()


def tighten(root: Path) -> int:
    """Remove group and other permissions under `root` and of `root` itself (the owner's
    stay); symbolic links are not followed. Returns how many entries changed."""
    root = Path(root)
    if not root.is_dir():
        return 0
    changed = int(_tighten_one(root))
    for folder, dirs, files in os.walk(root):
        changed += sum(_tighten_one(Path(folder, name)) for name in (*dirs, *files))
    return changed


def _tighten_one(path: Path) -> bool:
    try:
        st = path.lstat()
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(st.st_mode) or not st.st_mode & _OPEN_TO_OTHERS:
        return False
    os.chmod(path, stat.S_IMODE(st.st_mode) & ~_OPEN_TO_OTHERS)
    return True


SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def private_sqlite_file(database: str | None) -> None:
    """Before SQLite opens `database` (a file path): create it 0600 if it is new, and take
    group and other permissions from it and its companions. SQLite gives its -wal, -shm
    and -journal files the database file's mode, so they follow."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    private_dir(path.parent)
    # Never open an existing database file: closing any descriptor of it drops every
    # POSIX lock this process holds on it, SQLite's included, and another process
    # closing its connection would then checkpoint and delete the WAL under ours
    # (writes lost). Only a new file is created here, exclusively.
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        pass
    for suffix in SQLITE_COMPANIONS:
        _tighten_one(Path(f"{path}{suffix}"))
