"""Validation throughput: the `validate` flow against a bare loop, on one core and on two.

Corpus: a generated year (BENCH_VALIDATION_APPLICATIONS, default 5,000 applications,
about 46,000 files) stored as intake stores it, with the 学信 checks the education sync
leaves when 学信 verified everything (the 学信 round trip is the education bench's, and
not in the bare loop), in a SQLite database copied afresh for each flow run.

Baseline, measured in the same run: a bare loop over the same submissions and files
that applies the same checks with the same libraries (submission rules, the inspector's
`inspect_bytes` in-process, the material rules) with no Prefect, no database, no worker
subprocess; on two cores the submissions are split over two processes.

Figures: files/s and MB/s of each; `ratio_*` = flow / bare loop (target >= 0.85);
`scaling_*` = two cores / one core (target >= 1.7 for the flow).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

APPLICATIONS = int(os.environ.get("BENCH_VALIDATION_APPLICATIONS", "5000"))
AS_OF = "2026-10-08T09:00:00+08:00"


def _corpus(work: Path) -> tuple[Path, dict]:
    from zhicheng.standins.generator import generate
    year = work / "year"
    manifest = generate(year, applications=APPLICATIONS, seed=11)
    return year, manifest


def _load(year: Path, home: Path, db: Path) -> None:
    """Store the year as intake would (files content-addressed under the workspace)."""
    import hashlib

    from zhicheng.bootstrap import build_app
    from zhicheng.db.engine import unit_of_work
    from zhicheng.intake.service import StoredFile, material_path, store_submission
    from zhicheng.reference import sync_reference_data
    from zhicheng.schema import Base
    from zhicheng.settings import Settings
    from zhicheng.standins.yearfiles import read_material
    app = build_app(settings=Settings(home=home, database_url=f"sqlite:///{db}"))
    Base.metadata.create_all(app.engine)
    files = {}
    for r in map(json.loads, (year / "materials.jsonl").read_text().splitlines()):
        data = read_material(year / r["path"])
        sha = hashlib.sha256(data).hexdigest()
        target = home / material_path(sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        files[(r["submission_id"], r["material_id"])] = StoredFile(sha, len(data), r["content_type"],
                                                                   material_path(sha))
    now = dt.datetime.fromisoformat(AS_OF)
    with unit_of_work(app.sessions) as s:
        sync_reference_data(session=s, config=app.config)
        for line in (year / "submissions.jsonl").read_text().splitlines():
            store_submission(session=s, item=json.loads(line), files=files, config=app.config, now=now)
        _chsi_verified(s, now)
    app.engine.dispose()


def _chsi_verified(session: Any, now: dt.datetime) -> None:
    """Every received application's education and 学信 reports as verified by 学信."""
    from sqlalchemy import insert, select

    from zhicheng.db.models import Application, ApplicationRevision, Material
    from zhicheng.education.models import EducationCheck
    rows = []
    for app_id, rev, payload in session.execute(
            select(Application.id, Application.current_revision, ApplicationRevision.payload)
            .join(ApplicationRevision, (ApplicationRevision.application_id == Application.id)
                  & (ApplicationRevision.revision == Application.current_revision))
            .where(Application.status == "received")):
        entries = payload.get("education") if isinstance(payload.get("education"), list) else []
        rows += [{"application_id": app_id, "revision": rev, "subject": f"entry:{i}", "outcome": "verified"}
                 for i in range(len(entries))]
    rows += [{"application_id": a, "revision": r, "subject": f"report:{m}", "outcome": "valid"}
             for a, r, m in session.execute(select(Material.application_id, Material.revision, Material.material_id)
                                            .where(Material.type == "chsi_report"))]
    if rows:
        session.execute(insert(EducationCheck), [{**r, "fields": [], "record": None, "checked_at": now}
                                                 for r in rows])


# -- the bare loop ---------------------------------------------------------------------------

def _bare_slice(args: tuple[str, list[str]]) -> tuple[int, int]:
    """Check a slice of submissions (JSON lines) in this process: files and bytes seen."""
    year, lines = args
    from zhicheng.config import get_config
    from zhicheng.standins.yearfiles import read_material
    from zhicheng.domain import submission_checks as rules
    from zhicheng.domain.material_checks import Declared, Limits, file_findings
    from zhicheng.files.pdf_inspect import InspectLimits, inspect_bytes
    config = get_config()
    policy = rules.Policy.from_config(config.policy, config.materials)
    limits, inspect_limits = Limits.from_policy(config.policy.materials), InspectLimits.from_config(config)
    paths = {(r["submission_id"], r["material_id"]): Path(year) / r["path"]
             for r in map(json.loads, (Path(year) / "materials.jsonl").read_text().splitlines())}
    today = dt.date.fromisoformat(AS_OF[:10])
    files = size = 0
    for line in lines:
        sub = json.loads(line)
        rules.application_findings(sub, policy=policy, cat=config.findings, today=today,
                                   regions=config.regions, committees=config.committees)
        for m in sub["materials"] if isinstance(sub["materials"], list) else []:
            data = read_material(paths[(sub["submission_id"], m["material_id"])])
            seen = inspect_bytes(data, photo=m["type"] == "photo", limits=inspect_limits)
            declared = Declared(m["material_id"], m["type"], m["file_name"],
                                m["size"] if isinstance(m["size"], int) else None, m["sha256"])
            file_findings(declared, seen, limits, config.findings)
            files, size = files + 1, size + len(data)
    return files, size


def _bare(year: Path, processes: int) -> dict[str, Any]:
    lines = (year / "submissions.jsonl").read_text().splitlines()
    parts = [(str(year), lines[i::processes]) for i in range(processes)]
    started = time.perf_counter()
    with ProcessPoolExecutor(processes) as pool:
        done = list(pool.map(_bare_slice, parts))
    return _figures(sum(f for f, _ in done), sum(b for _, b in done), time.perf_counter() - started)


# -- the flow ---------------------------------------------------------------------------------

def _flow(home: Path, base_db: Path, workers: int) -> dict[str, Any]:
    from prefect.task_runners import ThreadPoolTaskRunner

    from zhicheng.flows.validation import validate
    db = base_db.with_name(f"run-{workers}.db")
    shutil.copy(base_db, db)
    os.environ.update(ZHICHENG_HOME=str(home), ZHICHENG_DATABASE_URL=f"sqlite:///{db}")
    started = time.perf_counter()
    result = validate.with_options(task_runner=ThreadPoolTaskRunner(max_workers=workers))(as_of=AS_OF)
    seconds = time.perf_counter() - started
    return {**_figures(result["files"], result["bytes"], seconds), "applications": result["applications"],
            "returned": result["returned"], "awaiting_chsi": result["awaiting_chsi"], "chunks": result["chunks"]}


def _figures(files: int, size: int, seconds: float) -> dict[str, Any]:
    return {"files": files, "megabytes": round(size / 1e6, 1), "seconds": round(seconds, 2),
            "files_per_s": round(files / seconds, 1), "mb_per_s": round(size / 1e6 / seconds, 2)}


def main() -> dict[str, Any]:
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.testing.utilities import prefect_test_harness
    with tempfile.TemporaryDirectory(prefix="zhicheng-bench-validation-") as tmp:
        work = Path(tmp)
        year, manifest = _corpus(work)
        home, base_db = work / "home", work / "base.db"
        _load(year, home, base_db)
        bare1, bare2 = _bare(year, 1), _bare(year, 2)
        with prefect_test_harness(server_startup_timeout=120):
            flow1, flow2 = _flow(home, base_db, 1), _flow(home, base_db, 2)
    per_file = lambda r: r["files_per_s"]  # noqa: E731
    return {
        "applications": APPLICATIONS, "uploads": manifest["counts"]["materials"],
        "cores": os.cpu_count(),
        "bare_loop": {"one_core": bare1, "two_cores": bare2},
        "flow": {"one_core": flow1, "two_cores": flow2},
        "ratio_one_core": round(per_file(flow1) / per_file(bare1), 3),
        "ratio_two_cores": round(per_file(flow2) / per_file(bare2), 3),
        "ratio_mb_one_core": round(flow1["mb_per_s"] / bare1["mb_per_s"], 3),
        "scaling_flow": round(per_file(flow2) / per_file(flow1), 2),
        "scaling_bare_loop": round(per_file(bare2) / per_file(bare1), 2),
    }
