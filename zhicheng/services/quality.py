"""Data-quality runs: plan, validate each suite with great-expectations, publish.

Results are kept in the workspace (ZHICHENG_HOME/quality/results/<run_id>/: each suite's
great-expectations result and summary.json; last.json is the latest summary) and the
Data Docs of the last run are in ZHICHENG_HOME/quality/index.html (a site beside results/).

great-expectations is imported inside the functions that run it: it takes seconds to
import, and the CLI must answer --help without it.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

from zhicheng.clock import local, typed_moment
from zhicheng.expectations import SUITE_NAMES, build_suite
from zhicheng.expectations.spec import Params

DEFAULT_CHUNK = 10_000


class UnknownSuite(ValueError):
    """A suite name that is not one of SUITE_NAMES."""


def plan(*, app, suite: str | None = None, batch_year: int | None = None,
         as_of: dt.datetime | None = None) -> dict[str, Any]:
    """What one run checks: its id, suites, scope and moment (plain data for tasks)."""
    if suite is not None and suite not in SUITE_NAMES:
        raise UnknownSuite(f"unknown suite {suite!r}; one of {', '.join(SUITE_NAMES)}")
    moment = (as_of or app.clock.now())
    moment = typed_moment(moment)
    run_id = f"{local(moment):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    return {"run_id": run_id, "suites": [suite] if suite else list(SUITE_NAMES),
            "batch_year": batch_year, "as_of": moment.isoformat()}


def quality_dir(app, *parts: str) -> Path:
    return app.workspace("quality", *parts)


def _params(app, run: dict[str, Any]) -> Params:
    return Params(dialect=app.engine.dialect.name, config=app.config, home=Path(app.settings.home),
                  as_of=dt.datetime.fromisoformat(run["as_of"]), batch_year=run["batch_year"])


def _chunk(app) -> int:
    return int(app.config.policy.chunks.get("quality", DEFAULT_CHUNK))


def validate_suite(*, app, run: dict[str, Any], name: str) -> dict[str, Any]:
    """Validate one suite against the database; keep its result; return its summary."""
    from zhicheng.expectations import runner
    suite = build_suite(name, _params(app, run))
    ctx = runner.new_context()
    source = runner.add_database(ctx, url=app.engine.url.render_as_string(hide_password=False),
                                 schema=app.settings.database_schema)
    doc = runner.validate(ctx, source, suite, run_name=run["run_id"],
                          run_time=dt.datetime.fromisoformat(run["as_of"]), chunk_size=_chunk(app))
    path = quality_dir(app, "results", run["run_id"]) / f"{name}.json"
    path.write_text(json.dumps(doc, ensure_ascii=False, default=str), encoding="utf-8")
    checks = runner.check_results(doc)
    return {"suite": name, "success": all(c["success"] for c in checks), "checks": checks}


def publish(*, app, run: dict[str, Any], summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """Build the Data Docs of this run and write its summary; returns the report."""
    from zhicheng.expectations import runner
    results_dir = quality_dir(app, "results", run["run_id"])
    params = _params(app, run)
    docs = [(build_suite(s["suite"], params),
             json.loads((results_dir / f"{s['suite']}.json").read_text(encoding="utf-8")))
            for s in summaries]
    index = runner.build_docs(quality_dir(app), docs, _chunk(app))
    report = {**run, "success": all(s["success"] for s in summaries),
              "data_docs": index.resolve().as_uri(), "results": str(results_dir.resolve()),
              "suites": summaries}
    text = json.dumps(report, ensure_ascii=False, indent=2, default=str)
    (results_dir / "summary.json").write_text(text, encoding="utf-8")
    (quality_dir(app, "results") / "last.json").write_text(text, encoding="utf-8")
    return report


def run(*, app, suite: str | None = None, batch_year: int | None = None,
        as_of: dt.datetime | None = None) -> dict[str, Any]:
    """The whole run in this process (the CLI); the flow runs the same steps as tasks."""
    planned = plan(app=app, suite=suite, batch_year=batch_year, as_of=as_of)
    summaries = [validate_suite(app=app, run=planned, name=n) for n in planned["suites"]]
    return publish(app=app, run=planned, summaries=summaries)


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
