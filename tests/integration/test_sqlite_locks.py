"""A second engine on the registry's SQLite file must not cost the first its locks.

POSIX drops every lock a process holds on a file when any descriptor of it is closed.
Were zhicheng to open and close the database file itself (to make it private) while one
of its connections is open, another process closing its connection would take itself for
the last one, checkpoint and delete the WAL, and this process's next commit would go to
the deleted file: lost to everyone else (a year-end step vanished that way under load).
"""
from __future__ import annotations

import subprocess
import sys

from sqlalchemy import text

from zhicheng.db.engine import make_engine

COUNT = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
         "print(c.execute('SELECT count(*) FROM t').fetchone()[0]); c.close()")


def _count_elsewhere(db) -> int:
    return int(subprocess.run([sys.executable, "-c", COUNT, str(db)], check=True, capture_output=True,
                              text=True).stdout)


def test_a_commit_after_another_engine_starts_is_seen_by_other_processes(tmp_path):
    db = tmp_path / "registry.db"
    first = make_engine(f"sqlite:///{db}")
    with first.connect() as conn:        # held open, as a flow's pooled connection is
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
        conn.commit()
        second = make_engine(f"sqlite:///{db}")    # a subflow's or a task's app, same process
        assert _count_elsewhere(db) == 1           # another process opens and closes
        conn.execute(text("INSERT INTO t VALUES (2)"))
        conn.commit()
        assert _count_elsewhere(db) == 2
    second.dispose()
    first.dispose()
