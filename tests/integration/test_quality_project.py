"""The data team's side of the quality suites (issue 24), on both engines: the
workspace's great-expectations project opened with GX's own API and its Checkpoint
run from a separate Python; a team's own expectation kept and run by the next run;
Data Docs that load nothing from the internet, drawn by a real browser with the
network cut off from a copy of the site; every run's results kept as history."""
from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from tests.integration.quality_data import clean_year, plant_defects
from zhicheng.db.models import Application, QualityResult
from zhicheng.expectations import history as quality_history
from zhicheng.quality import service as quality

TEAM_CHECK = "expect_column_values_to_be_in_set(status)"

# What a data team types: GX's own API; zhicheng's import registers its expectations.
TEAM_SCRIPT = """
import json, sys
import great_expectations as gx
import zhicheng.expectations.gx  # zhicheng's expectations, as GX plugins
from zhicheng.db.models.applications import STATUSES

ctx = gx.get_context(mode="file", project_root_dir=sys.argv[1])
suite = ctx.suites.get("applications")
suite.add_expectation(gx.expectations.ExpectColumnValuesToBeInSet(
    column="status", value_set=list(STATUSES), description="办件状态在已知状态中（团队）"))
suite.save()
result = ctx.checkpoints.get("zhicheng_quality").run()
out = {}
for r in result.run_results.values():
    for e in r.results:
        meta = e.expectation_config.meta or {}
        name = meta.get("check") or e.expectation_config.type
        res = e.result or {}
        out[r.suite_name + "." + name] = [e.success, res.get("observed_value")
                                          if meta.get("managed_by") else res.get("unexpected_count")]
print(json.dumps({"success": result.success, "checks": out}))
"""


def _counts(report) -> dict[str, int]:
    return {f"{s['suite']}.{c['check']}": c["unexpected_count"] for s in report["suites"] for c in s["checks"]}


def test_a_team_runs_the_checkpoint_and_its_own_expectation_runs_next_time(app):
    ids = clean_year(app)
    plant_defects(app, ids)
    first = quality.run(app=app)
    home = app.settings.home
    got = subprocess.run([sys.executable, "-c", TEAM_SCRIPT, str(home)], capture_output=True,
                         text=True, timeout=300, env={**os.environ, "GX_ANALYTICS_ENABLED": "false"})
    assert got.returncode == 0, got.stderr[-3000:]
    team = json.loads(got.stdout.strip().splitlines()[-1])
    # the Checkpoint answers as `zhicheng quality` did, check by check, and runs the team's
    assert not team["success"]
    ours = {k: v[1] for k, v in team["checks"].items() if not k.endswith("expect_column_values_to_be_in_set")}
    assert ours == _counts(first)
    with app.sessions() as s:
        unknown = s.scalar(select(func.count()).select_from(Application)
                           .where(Application.status.not_in(_statuses())))
    assert unknown >= 1 and team["checks"]["applications.expect_column_values_to_be_in_set"] == [False, unknown]

    # the Checkpoint's run is in zhicheng's history too (its own action)
    history = quality_history.frame(app)
    assert history["run_id"].nunique() == 2 and first["run_id"] in set(history["run_id"])
    theirs = history[history["run_id"] != first["run_id"]]
    assert len(theirs) == len(_counts(first)) + 1 and theirs["team"].sum() == 1

    second = quality.run(app=app)  # the next run: our checks rewritten, the team's kept
    checks = {c["check"]: c for s in second["suites"] if s["suite"] == "applications" for c in s["checks"]}
    assert len(checks) == 9 and checks[TEAM_CHECK]["team"] and not checks[TEAM_CHECK]["success"]
    assert checks[TEAM_CHECK]["unexpected_count"] == unknown
    assert checks[TEAM_CHECK]["description"] == "办件状态在已知状态中（团队）"
    assert {k: v for k, v in _counts(second).items() if k != f"applications.{TEAM_CHECK}"} == _counts(first)

    # the index lists the team's Checkpoint run beside ours; the URL is not in the config
    index = (home / "quality" / "index.html").read_text(encoding="utf-8")
    assert first["run_id"] in index and second["run_id"] in index
    assert len(list((home / "quality" / "validations" / "applications").rglob("*.html"))) == 3
    url = app.engine.url.render_as_string(hide_password=False)
    assert url not in (home / "gx" / "great_expectations.yml").read_text(encoding="utf-8")
    variables = home / "gx" / "uncommitted" / "config_variables.yml"
    assert url in variables.read_text(encoding="utf-8")
    assert stat.S_IMODE(variables.stat().st_mode) & 0o077 == 0


def _statuses():
    from zhicheng.db.models.applications import STATUSES
    return list(STATUSES)


_ASSET = re.compile(r'<(?:script|link)\b[^>]*?(?:src|href)="([^"]+)"')


def test_data_docs_load_nothing_from_the_internet(app):
    ids = clean_year(app)
    plant_defects(app, ids)
    quality.run(app=app)
    site = app.settings.home / "quality"
    pages = list(site.rglob("*.html"))
    assert len(pages) >= 13  # the index, 6 suites, 6 validations
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assets = _ASSET.findall(text)
        assert assets and not [a for a in assets if "//" in a], (page, assets)
        missing = [a for a in assets if not (page.parent / a.split("?")[0]).resolve().is_file()]
        assert not missing, (page, missing)
        assert "newsletter" not in text and "amazonaws" not in text


def test_a_copy_of_the_data_docs_opens_offline_in_a_browser(app, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("no chromium on this machine: the offline Data Docs check needs it "
                    "(.ci/run installs Debian's chromium)")
    if app.engine.dialect.name != "sqlite":
        pytest.skip("the pages do not depend on the engine; SQLite draws them once")
    from playwright.sync_api import sync_playwright
    ids = clean_year(app)
    plant_defects(app, ids)
    report = quality.run(app=app, suite="applications")
    copy = tmp_path / "another-machine" / "quality"  # as copied to a machine with no network
    shutil.copytree(app.settings.home / "quality", copy)
    shutil.rmtree(app.settings.home / "quality")
    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page()
        page.route(re.compile(r"^(?!file:).*"), lambda route: (outside.append(route.request.url),
                                                                route.abort()))
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto((copy / "index.html").as_uri())
        # bootstrap-table (a vendored script) draws the list of runs
        page.locator(".bootstrap-table").first.wait_for(timeout=30_000)
        assert page.get_by_text(report["run_id"]).count() >= 1
        page.get_by_text(report["run_id"]).first.click()
        page.wait_for_load_state()
        body = page.inner_text("body")
        assert "id_number_valid" in body or "GB 11643" in body
        assert re.search(r"\d{4}\*{10}[\dX]{4}", body)  # the failing row, its ID number masked
        assert page.evaluate("typeof jQuery") == "function"
        browser.close()
    assert not outside and not errors, (outside, errors)


def test_every_run_is_kept_with_its_change_since_the_last(app):
    ids = clean_year(app)
    first = quality.run(app=app, suite="outbox")
    plant_defects(app, ids)
    # where the office serves ZHICHENG_HOME/quality, the link opens from any machine
    app.settings.data_docs_url = "http://quality.office.example/docs/"
    second = quality.run(app=app, suite="outbox")
    assert first["data_docs"].startswith("file://")
    assert second["data_docs"] == "http://quality.office.example/docs/index.html"
    checks = {c["check"]: c for c in second["suites"][0]["checks"]}
    target = checks["target_known"]
    assert target["previous"] == 0 and target["change"] == target["unexpected_count"] > 0
    assert all(c["previous"] is None and c["change"] is None for c in first["suites"][0]["checks"])
    history = quality_history.frame(app, suite="outbox")
    assert list(history["run_id"].unique()) == [first["run_id"], second["run_id"]]
    assert len(history) == 4 and history["unexpected_count"].tolist()[:2] == [0, 0]
    again = quality.publish(app=app, summaries=second["suites"],
                            run={**{k: second[k] for k in ("run_id", "batch_year", "as_of")}, "suites": ["outbox"]})
    with app.sessions() as s:  # publishing a run again replaces its rows, no double count
        assert s.scalar(select(func.count()).select_from(QualityResult)) == 4
    assert again["suites"][0]["checks"][0]["previous"] == 0
