"""Check a staff file with its great-expectations suites before it is imported (issue 24).

The import verbs (`zhicheng votes import-roster | session-import | import`,
`zhicheng review import`, `zhicheng publicity objections import`) call `check_file`
first: the file is read as its importer reads it (zhicheng.files.tables: the
same header search, encodings, limits and cells), each sheet becomes a DataFrame, and
the file suites (expectations.files) run as Checkpoints of the workspace's GX project,
so the result and its failing rows (masked) land in the Data Docs, where a data team
sees a bad file next to the database suites. Each check's outcome is kept in the
quality results history (expectations.history, with the file's name), and the report
says each check's change since the last file of the same kind
(quality/results/<run_id>/summary.json).

The importer stays the authority: it checks the file again in its own way and decides,
and this check changes nothing it does or says. A file the importer's reader refuses
(unreadable, no header) gives no DataFrame and is not checked here; a failure of the
check itself is logged and never stops an import.

A check writes the GX project and its Data Docs, so it holds the quality run's lock
(zhicheng.quality.service.one_run) while it does. It does not wait: a quality run
takes minutes, staff at an import should not, so a file met while one runs is left
unchecked, with a warning saying so, and imported as always.

For a notebook: `frames(kind, path, config)` gives the DataFrames a Checkpoint takes.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from pathlib import Path
from typing import Any

from zhicheng.clock import local
from zhicheng.config import Config
from zhicheng.expectations.file_rules import ROW
from zhicheng.expectations.files import FILE_KINDS, FileSuite, file_suites
from zhicheng.files.tables import FileRefused, read_table, sheet_names
from zhicheng.private_files import tighten, write_atomic

log = logging.getLogger(__name__)


def _columns(kind: str, sheet: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(required, optional) columns of a kind of file and sheet: the importers' own
    tuples, one truth for what a file holds."""
    from zhicheng.publicity import service as publicity
    from zhicheng.review import imports as review_import
    from zhicheng.votes import service as votes
    if kind == "ballots":
        return votes.BALLOT_COLUMNS, votes.BALLOT_OPTIONAL
    if kind == "roster":
        return votes.ROSTER_COLUMNS, votes.ROSTER_OPTIONAL
    if kind == "session":
        sheets = {**votes.SESSION_SHEETS, **votes.SESSION_OPTIONAL_SHEET}
        return sheets[sheet or ""], ()
    if kind == "decisions":
        return review_import.COLUMNS, review_import.OPTIONAL
    if kind == "objections":
        return publicity.OBJECTION_COLUMNS, publicity.OBJECTION_OPTIONAL
    raise KeyError(f"unknown file kind {kind!r}; one of {', '.join(FILE_KINDS)}")


def frames(kind: str, path: Path | str, config: Config) -> dict[str, Any]:
    """{suite name: DataFrame} of a staff file, read as its importer reads it: a column
    per header, text cells, empty cells missing, the row number in 行号. A sheet the
    workbook lacks, or that the importer's reader refuses, has no frame."""
    import pandas as pd
    suites = file_suites(kind, config)
    present = _sheets(path, suites)
    out = {}
    for suite in suites:
        if suite.sheet is not None and suite.sheet not in present:
            continue
        required, optional = _columns(kind, suite.sheet)
        try:
            rows = read_table(path, required=required, optional=optional, sheet=suite.sheet,
                              limits=config.policy.imports)
        except FileRefused:
            continue
        records = [{ROW: r.number, **{h: (v or None) for h, v in r.cells.items()}} for r in rows]
        frame = pd.DataFrame.from_records(records) if records else pd.DataFrame()
        known = [ROW, *required, *(c for c in optional if c not in required)]
        frame = frame.reindex(columns=known + [c for c in frame.columns if c not in known])
        out[suite.name] = frame.astype(object).where(frame.notna(), None)
    return out


def _sheets(path: Path | str, suites: tuple[FileSuite, ...]) -> set[str]:
    if not any(s.sheet for s in suites):
        return set()
    try:
        return set(sheet_names(path))
    except Exception:  # not a workbook: the importer says so
        return set()


def check_file(app, kind: str, path: Path | str) -> dict[str, Any] | None:
    """Run the file's suites over it and keep the results in the GX project and its Data
    Docs; returns what each suite found, or None when the file could not be checked.
    Never raises: the import goes on as it would without it."""
    from zhicheng.locks import AlreadyRunning
    try:
        return run_checks(app, kind, path)
    except AlreadyRunning as exc:
        log.warning("文件 %s 未做数据质量检查：数据质量检查正在使用 GX 项目（%s）；导入照常进行",
                    Path(path).name, exc)
        return None
    except Exception as exc:
        log.warning("file check of %s (%s) failed (%s); the import goes on", Path(path).name, kind,
                    type(exc).__name__)
        log.debug("file check failure", exc_info=True)
        return None


def run_checks(app, kind: str, path: Path | str) -> dict[str, Any] | None:
    """check_file, raising what goes wrong (for tests and the benchmark)."""
    found = frames(kind, path, app.config)
    return check_frames(app, kind, Path(path).name, found) if found else None


def check_frames(app, kind: str, file_name: str, found: dict[str, Any]) -> dict[str, Any]:
    """Run the file suites of `kind` over their DataFrames ({suite name: frame}, as
    `frames` gives them) as one run named after the file; results and Data Docs kept.
    Raises zhicheng.locks.AlreadyRunning while a quality run holds the project."""
    from zhicheng.quality.service import one_run
    with one_run(app=app, wait_seconds=0):
        return _check_frames(app, kind, file_name, found)


def _check_frames(app, kind: str, file_name: str, found: dict[str, Any]) -> dict[str, Any]:
    from zhicheng.expectations import file_project, history, project, runner
    home = Path(app.settings.home)
    ctx = project.open_project(home)
    suites = [s for s in file_suites(kind, app.config) if s.name in found]
    file_project.sync(ctx, tuple(suites))
    moment = app.clock.now()
    # unique, as a quality run's id (a file imported twice at one --as-of keeps both)
    run_id = f"{local(moment):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    run_name = f"{run_id}-{file_name}"
    summaries = []
    for suite in suites:
        result = file_project.run(ctx, suite.name, found[suite.name], run_name=run_name,
                                  run_time=_utc(moment))
        doc = result.to_json_dict()
        summaries.append({"suite": suite.name, "success": bool(doc["success"]),
                          "checks": runner.check_results(doc)})
    tighten(home / project.PROJECT_DIR)
    tighten(home / "quality")  # great-expectations writes with the process's umask
    run = {"run_id": run_id, "as_of": moment.isoformat(), "batch_year": None, "file_name": file_name[:255]}
    history.record(app.sessions, run, summaries, now=app.clock.now())
    changed = history.with_changes(app, run, summaries)  # since the last file of this kind
    report = {"kind": kind, "file": file_name, "run_id": run_id, "run_name": run_name, "as_of": run["as_of"],
              "success": all(r["success"] for r in summaries),
              "suites": {r["suite"]: {"success": r["success"], "checks": r["checks"]} for r in changed},
              "data_docs": str(home / "quality" / "index.html")}
    write_atomic(home / "quality" / "results" / run_id / "summary.json",
                 json.dumps(report, ensure_ascii=False, indent=2, default=str).encode())
    return report


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.timezone.utc) if moment.tzinfo else moment
