"""Data-quality runs: plan, prepare the great-expectations project, validate each
suite with it, publish.

The suites run as the validation definitions of the workspace's great-expectations
project (ZHICHENG_HOME/gx, expectations.project), which keeps every run's results; the
Data Docs of all of them are ZHICHENG_HOME/quality/index.html. Each run's summary is
also kept as files (quality/results/<run_id>/: each suite's result and summary.json;
last.json is the latest summary) and, check by check, in the table quality_results.

One run at a time writes the project, its Data Docs and the history (`one_run`, the
database's job lock `quality`, which staff files' checks take too): two runs at once
would rewrite the same suites and great_expectations.yml and build the same site over
each other.

great-expectations is imported inside the functions that run it: it takes seconds to
import, and the CLI must answer --help without it.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from zhicheng.clock import local, typed_time
from zhicheng.expectations import SUITE_NAMES, build_suite
from zhicheng.expectations.spec import Params
from zhicheng.private_files import tighten, write_atomic
from zhicheng.worker_pools import processes
from zhicheng.expectations import history

LOCK = "quality"


class UnknownSuite(ValueError):
    """A suite name that is not one of SUITE_NAMES."""


def plan(*, app, suite: str | None = None, batch_year: int | None = None,
         as_of: dt.datetime | None = None) -> dict[str, Any]:
    """What one run checks: its id, suites, scope and moment (plain data for tasks)."""
    if suite is not None and suite not in SUITE_NAMES:
        raise UnknownSuite(f"unknown suite {suite!r}; one of {', '.join(SUITE_NAMES)}")
    moment = (as_of or app.clock.now())
    moment = typed_time(moment)
    run_id = f"{local(moment):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    return {"run_id": run_id, "suites": [suite] if suite else list(SUITE_NAMES),
            "batch_year": batch_year, "as_of": moment.isoformat()}


def quality_dir(app, *parts: str) -> Path:
    return app.workspace("quality", *parts)


def _params(app, run: dict[str, Any]) -> Params:
    return Params(dialect=app.engine.dialect.name, config=app.config, home=Path(app.settings.home),
                  as_of=dt.datetime.fromisoformat(run["as_of"]), batch_year=run["batch_year"])


def _chunk(app) -> int:
    return app.config.policy.chunks.quality


def preload() -> None:
    """Import what a run needs (great-expectations: seconds of CPU, once a process), so
    a caller that knows a run is coming (the year-end, whose last step it is) can have it
    done meanwhile, on a thread. A failure is left for the run to meet and report."""
    try:
        from zhicheng.expectations import gx, project, runner  # noqa: F401
    except Exception:  # noqa: BLE001 - the run imports them again and says what is wrong
        pass


def prepare(*, app, run: dict[str, Any]) -> None:
    """Write every suite, with this run's moment and scope, into the workspace's
    great-expectations project (a team's own expectations are kept)."""
    from zhicheng.expectations import project
    params = _params(app, run)
    project.sync(project.open_project(app.settings.home),
                 [build_suite(n, params) for n in SUITE_NAMES],
                 url=app.engine.url.render_as_string(hide_password=False),
                 schema=app.settings.database_schema, chunk_size=_chunk(app))
    tighten(app.settings.home / project.PROJECT_DIR)


def validate_suite(*, app, run: dict[str, Any], name: str) -> dict[str, Any]:
    """Validate one suite as the project's Checkpoint does; keep its result; return its summary."""
    from zhicheng.expectations import gx, project, runner
    ctx = project.open_project(app.settings.home)
    with gx.prefetched(app.engine, build_suite(name, _params(app, run)), chunk=_chunk(app),
                       workers=processes(app.config.policy.quality.concurrent_checks)):
        result = project.run_definition(ctx, name, run_name=run["run_id"],
                                        run_time=dt.datetime.fromisoformat(run["as_of"]))
    doc = result.to_json_dict()
    path = quality_dir(app, "results", run["run_id"]) / f"{name}.json"
    write_atomic(path, json.dumps(doc, ensure_ascii=False, default=str).encode())
    checks = runner.check_results(doc)
    return {"suite": name, "success": all(c["success"] for c in checks), "checks": checks}


def publish(*, app, run: dict[str, Any], summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """Build the Data Docs (every stored run), record this run's results and write its
    summary; returns the report, with each check's change since the last run."""
    from zhicheng.expectations import project
    results_dir = quality_dir(app, "results", run["run_id"])
    index = project.build_docs(project.open_project(app.settings.home))
    tighten(quality_dir(app))  # great-expectations writes the site with the process's umask
    tighten(app.settings.home / project.PROJECT_DIR)
    history.record(app.sessions, run, summaries, now=app.clock.now())
    report = {**run, "success": all(s["success"] for s in summaries),
              "data_docs": data_docs_link(app, index), "results": str(results_dir.resolve()),
              "suites": history.with_changes(app, run, summaries)}
    text = json.dumps(report, ensure_ascii=False, indent=2, default=str).encode()
    write_atomic(results_dir / "summary.json", text)
    write_atomic(quality_dir(app, "results") / "last.json", text)
    return report


@contextmanager
def one_run(*, app, wait_seconds: float | None,
            on_wait: Callable[[Exception], None] | None = None) -> Iterator[None]:
    """Hold the workspace's GX project for one quality run or file check, waiting for
    another up to `wait_seconds` (None: until it ends; 0: not at all); raises
    zhicheng.locks.AlreadyRunning when it is still held then."""
    from zhicheng.locks import waiting
    with waiting(app.engine, LOCK, now=app.clock.now(), wait_seconds=wait_seconds, on_wait=on_wait):
        yield


def run(*, app, suite: str | None = None, batch_year: int | None = None,
        as_of: dt.datetime | None = None, wait_seconds: float | None = None) -> dict[str, Any]:
    """The whole run in this process (tests, the bench); the flow runs the same steps as
    tasks, under the same lock."""
    with one_run(app=app, wait_seconds=wait_seconds):
        planned = plan(app=app, suite=suite, batch_year=batch_year, as_of=as_of)
        prepare(app=app, run=planned)
        summaries = [validate_suite(app=app, run=planned, name=n) for n in planned["suites"]]
        return publish(app=app, run=planned, summaries=summaries)


def data_docs_link(app, index: Path) -> str:
    """Where a browser opens the Data Docs: under ZHICHENG_DATA_DOCS_URL when the site
    folder (ZHICHENG_HOME/quality) is served there (a browser on another machine, the
    link in the Prefect artifact), else the file on this machine."""
    base = app.settings.data_docs_url
    return f"{base.rstrip('/')}/index.html" if base else index.resolve().as_uri()


def failures(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The failed checks of a report, flat: suite, check, description, count, rows."""
    return [{"suite": s["suite"], **c} for s in report["suites"] for c in s["checks"]
            if not c["success"]]


def brief(report: dict[str, Any]) -> dict[str, Any]:
    """A report without its rows (for the year-end record and the flow's return value)."""
    return {"run_id": report["run_id"], "batch_year": report["batch_year"],
            "as_of": report["as_of"], "success": report["success"],
            "data_docs": report["data_docs"], "results": report["results"],
            "checks": sum(len(s["checks"]) for s in report["suites"]),
            "failed": [{"suite": f["suite"], "check": f["check"],
                        "unexpected_count": f["unexpected_count"], "error": f["error"]}
                       for f in failures(report)]}
