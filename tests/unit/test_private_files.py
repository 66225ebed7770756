"""The workspace is its user's alone (zhicheng.private_files, docs/privacy.md): what we
write is 0600 in 0700 folders even under a lenient umask, and an older workspace is
tightened in place."""
from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import pytest

from zhicheng.private_files import private_dir, private_sqlite_file, tighten, write_atomic


@pytest.fixture
def lenient_umask():
    """The umask most shells have (0022): explicit modes must hold without our own."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def open_to_others(root: Path) -> list[str]:
    return [f"{p.relative_to(root)} {oct(mode(p))}" for p in [root, *root.rglob("*")]
            if not p.is_symlink() and mode(p) & 0o077]


def test_private_dir_makes_every_missing_level_0700(tmp_path, lenient_umask):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    made = private_dir(shared / "a" / "b" / "c")
    assert made.is_dir() and open_to_others(shared / "a") == []
    assert mode(shared) == 0o755  # what existed before is left alone


def test_an_atomic_write_is_0600_before_and_after_its_rename(tmp_path, lenient_umask, monkeypatch):
    seen = []
    real_replace = os.replace

    def replace(src, dst):
        seen.append(mode(Path(src)))
        real_replace(src, dst)
    monkeypatch.setattr(os, "replace", replace)
    target = tmp_path / "materials" / "ab" / "content"
    write_atomic(target, b"scan of an ID card")
    assert seen == [0o600] and mode(target) == 0o600 and mode(target.parent) == 0o700


def test_tighten_takes_group_and_other_bits_and_keeps_the_owners(tmp_path, lenient_umask):
    root = tmp_path / "home"
    (root / "certificates" / "320000").mkdir(parents=True, mode=0o755)
    scan = root / "certificates" / "320000" / "x.pdf"
    scan.write_bytes(b"%PDF")
    script = root / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    (root / "link").symlink_to("/etc/hostname")
    for folder in (root, root / "certificates", root / "certificates" / "320000"):
        folder.chmod(0o755)
    assert tighten(root) == 5
    assert open_to_others(root) == []
    assert mode(scan) == 0o600 and mode(script) == 0o700 and mode(root) == 0o700
    assert mode(Path("/etc/hostname")) & 0o044   # a link is not followed
    assert tighten(root) == 0


def test_a_new_sqlite_database_and_its_companions_are_0600(tmp_path, lenient_umask):
    from sqlalchemy import text

    from zhicheng.db.engine import make_engine
    engine = make_engine(f"sqlite:///{tmp_path / 'db' / 'zhicheng.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x TEXT)"))
        conn.execute(text("INSERT INTO t VALUES ('a')"))
        made = sorted(p.name for p in (tmp_path / "db").iterdir())
        assert {"zhicheng.db", "zhicheng.db-wal"} <= set(made)
        assert open_to_others(tmp_path / "db") == [], made
    engine.dispose()


def test_an_existing_database_file_is_tightened_before_it_is_opened(tmp_path, lenient_umask):
    db = tmp_path / "zhicheng.db"
    for suffix in ("", "-wal", "-journal"):
        Path(f"{db}{suffix}").write_bytes(b"")
        os.chmod(f"{db}{suffix}", 0o644)
    private_sqlite_file(str(db))
    assert all(mode(Path(f"{db}{s}")) == 0o600 for s in ("", "-wal", "-journal"))


def test_reports_and_keys_are_written_0600(tmp_path, lenient_umask):
    from zhicheng.files.cjk_documents import write_pdf, write_xlsx
    from zhicheng.issuance.keys import KeyStore
    home = tmp_path / "home"
    common = dict(title="评前公示名单", header_lines=["公示期"], columns=["姓名"], rows=[["张三"]])
    write_xlsx(home / "publicity" / "list.xlsx", **common)
    write_pdf(home / "publicity" / "list.pdf", **common)
    KeyStore.for_home(home).generate("320000", now=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    home.chmod(0o700)
    assert len(list(home.rglob("*"))) >= 8
    assert open_to_others(home) == []


def test_the_app_and_its_workspace_folders_are_private(tmp_path, lenient_umask, monkeypatch):
    from zhicheng.bootstrap import build_app
    from zhicheng.settings import Settings
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    app = build_app(settings=Settings(home=home))
    assert mode(home) == 0o700                   # an older workspace is closed at once
    assert os.umask(0o022) == 0o077              # and what this process writes is private
    quality = app.workspace("quality", "results")
    assert mode(quality) == mode(quality.parent) == 0o700
    app.engine.dispose()


def test_a_workspace_folder_of_another_user_is_left_with_a_warning(tmp_path, monkeypatch, caplog):
    from zhicheng import private_files
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0o755)

    def not_yours(path, mode):
        raise PermissionError(1, "Operation not permitted", str(path))
    monkeypatch.setattr(private_files.os, "chmod", not_yours)
    assert private_files.close_to_others(home) == home
    assert "not this user's to close" in caplog.text
