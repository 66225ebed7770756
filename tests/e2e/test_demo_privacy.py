"""Nothing personal leaves the registry and nothing is open to other users (issue 19,
items 6 and 7; docs/privacy.md): a demo year, a quality run that finds a broken ID
number, then every artifact searched for the whole ID and phone numbers of the year's
applicants, and every file of the workspace for group or other permissions.

Searched: every file of the workspace except the registry (the database), the issued
certificates (which carry their holder's number) and the uploads, and except the
stand-ins' own stores (year/, standins/: the hall's and the province's side); XLSX as
their XML, PDFs as their text; everything the commands printed (their log records
included); what the hall received to show or send to applicants (returns, the texts
and params of notifications, the SMS); and every artifact, log, flow run and task run
the Prefect API holds.
"""
from __future__ import annotations

import io
import json
import os
import sqlite3
import stat
import subprocess
import sys
import zipfile
from contextlib import closing
from pathlib import Path

import pymupdf
import pytest

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
APPLICATIONS, SEED = 24, 18        # a small year whose planted faults include a bad ID number
REGISTRY_AND_ISSUED = ("zhicheng.db", "certificates", "materials")
OTHER_SYSTEMS = ("year", "standins")

READ_PREFECT = """
import asyncio, json
from prefect.client.orchestration import get_client

async def every(read, **kw):
    out, offset = [], 0
    while True:
        page = await read(limit=200, offset=offset, **kw)
        out += [x.model_dump(mode="json") for x in page]
        if len(page) < 200:
            return out
        offset += 200

async def main():
    async with get_client() as c:
        return {"artifacts": await every(c.read_artifacts), "logs": await every(c.read_logs),
                "flow_runs": await every(c.read_flow_runs), "task_runs": await every(c.read_task_runs)}

print("PREFECT-API " + json.dumps(asyncio.run(main()), ensure_ascii=False))
"""


def run(args: list[str], env: dict[str, str], cwd: Path, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess:
    # the umask most shells have: what stays private must not depend on the caller's
    proc = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=1200,
                          preexec_fn=lambda: os.umask(0o022))
    assert proc.returncode in ok, (args, proc.returncode, proc.stderr[-3000:])
    return proc


def test_a_demo_year_leaves_no_whole_number_outside_the_registry_and_nothing_open(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZHICHENG_", "PREFECT_API_URL"))}
    env["PREFECT_HOME"] = str(tmp_path / "prefect")
    # the reader of the Prefect API below starts a temporary server too: 20 s is too
    # little on a loaded machine (the demo gives its own 120 s, see zhicheng.cli.demo)
    env.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    ws = tmp_path / "demo"
    printed = [run([str(BIN / "zhicheng"), "demo", "--applications", str(APPLICATIONS), "--seed", str(SEED),
                    "--workspace", str(ws), "--json"], env, tmp_path)]
    numbers = registry_numbers(ws / "zhicheng.db")
    numbers.add(break_one_id_number(ws / "zhicheng.db"))   # quality must now show a row with it
    numbers |= registry_numbers(ws / "zhicheng.db")
    env["ZHICHENG_HOME"] = str(ws)
    printed += [run([str(BIN / "zhicheng"), "quality", *flag], env, tmp_path, ok=(1,)) for flag in ([], ["--json"])]
    prefect = run([sys.executable, "-c", READ_PREFECT], {**env, "PREFECT_LOGGING_LEVEL": "WARNING"}, tmp_path)
    api = json.loads(prefect.stdout[prefect.stdout.index("PREFECT-API "):].split(" ", 1)[1])

    texts = dict(workspace_texts(ws))
    texts |= {f"output of {' '.join(p.args[1:3])}: {part}": getattr(p, part) for p in printed
              for part in ("stdout", "stderr")}
    texts |= {f"hall: {k}": v for k, v in hall_texts(ws / "standins" / "hall.sqlite").items()}
    texts |= {f"Prefect API: {k}": json.dumps(v, ensure_ascii=False) for k, v in api.items()}

    # the search has something to find: the bad ID went back to its applicant, the broken
    # one is a failing row, and Prefect holds the year's artifacts and logs
    assert "applicant.id_number_invalid" in texts["hall: returns"]
    assert '"id_number": "' in printed[2].stdout
    assert len(api["artifacts"]) >= 9 and len(api["logs"]) >= 50 and len(numbers) > APPLICATIONS
    assert any(name.endswith(".xlsx") for name in texts) and any(name.endswith(".pdf") for name in texts)
    assert any("quality/validations" in name for name in texts)
    leaks = sorted({where for where, text in texts.items() for n in numbers if n in text})
    assert leaks == [], leaks

    open_to_others = [f"{p.relative_to(ws)} {oct(mode)}" for p in [ws, *ws.rglob("*")]
                      if (mode := own_mode(p)) is not None and mode & 0o077]
    assert open_to_others == [], open_to_others[:20]


def own_mode(path: Path) -> int | None:
    """The permission bits of `path`; None for a symlink, or for a file gone since the
    listing (SQLite removes its -shm and -wal files when the last connection closes)."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return None
    return None if stat.S_ISLNK(st.st_mode) else stat.S_IMODE(st.st_mode)


def registry_numbers(db: Path) -> set[str]:
    """Every applicant's ID and phone number, and every certificate holder's ID number."""
    with closing(sqlite3.connect(db)) as conn, conn:
        rows = conn.execute("SELECT id_number FROM applicants UNION SELECT phone FROM applicants "
                            "UNION SELECT holder_id_number FROM certificates").fetchall()
    return {v for (v,) in rows if v}


def break_one_id_number(db: Path) -> str:
    """Change the check character of an issued applicant's ID number; returns it as it was."""
    with closing(sqlite3.connect(db)) as conn, conn:
        (pid, number), = conn.execute(
            "SELECT p.id, p.id_number FROM applicants p JOIN applications a ON a.applicant_id = p.id "
            "WHERE a.status = 'issued' ORDER BY p.id LIMIT 1").fetchall()
        wrong = number[:17] + ("0" if number[17] != "0" else "1")
        conn.execute("UPDATE applicants SET id_number = ? WHERE id = ?", (wrong, pid))
    return number


def workspace_texts(ws: Path):
    for path in sorted(p for p in ws.rglob("*") if p.is_file()):
        top = path.relative_to(ws).parts[0]
        if top.startswith(REGISTRY_AND_ISSUED) or top in OTHER_SYSTEMS:
            continue
        name, data = str(path.relative_to(ws)), path.read_bytes()
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(io.BytesIO(data)) as book:
                yield name, "\n".join(book.read(m).decode("utf-8") for m in book.namelist())
        elif path.suffix == ".pdf":
            with pymupdf.open(stream=data) as doc:
                yield name, "\n".join([json.dumps(doc.metadata, ensure_ascii=False),
                                       *(page.get_text() for page in doc)])
            yield f"{name} (bytes)", data.decode("latin-1")
        else:
            yield name, data.decode("utf-8", "replace") + data.decode("gb18030", "replace")


def hall_texts(store: Path) -> dict[str, str]:
    """What the hall shows or sends its applicants: returns, notifications' template and
    params (their `id_number` is the hall's addressee key, whole by contract), SMS."""
    with closing(sqlite3.connect(store)) as conn, conn:
        returns = [json.loads(b) for (b,) in conn.execute("SELECT body FROM returns")]
        notes = [json.loads(b) for (b,) in conn.execute("SELECT body FROM notifications")]
        sms = [t for (t,) in conn.execute("SELECT text FROM sms")]
    return {"returns": json.dumps(returns, ensure_ascii=False),
            "notifications": json.dumps([{k: v for k, v in n.items() if k != "id_number"} for n in notes],
                                        ensure_ascii=False),
            "sms": "\n".join(sms)}
