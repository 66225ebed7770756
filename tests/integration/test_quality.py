"""Data-quality suites on both engines: a clean year passes; each planted defect is
reported by its own expectation, with exactly its rows, and by no other; Data Docs
keep every run; the verb exits 1 naming the rows; the flow leaves an artifact."""
from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from tests.integration.quality_data import clean_year, plant_defects
from zhicheng.cli.main import app as cli
from zhicheng.expectations import SUITE_NAMES, build_suite
from zhicheng.quality import service as quality
from zhicheng.worker_pools import processes

AS_OF = "2026-06-01T09:00:00+08:00"


def checks(report) -> dict[tuple[str, str], dict]:
    return {(s["suite"], c["check"]): c for s in report["suites"] for c in s["checks"]}


def test_a_clean_year_meets_every_expectation(app):
    clean_year(app)
    report = quality.run(app=app)
    results = checks(report)
    assert not [k for k, c in results.items() if not c["success"]], results
    assert report["success"] and {s["suite"] for s in report["suites"]} == set(SUITE_NAMES)
    # the row-by-row rules did look at the rows (SQL narrows numbers to the suspect: none)
    assert results[("certificates", "number_well_formed")]["checked"] == 0
    assert results[("certificates", "document_file_exists")]["checked"] == 17  # 1 revoked
    assert results[("materials", "file_stored")]["checked"] == 2
    index = app.settings.home / "quality" / "index.html"
    assert report["data_docs"] == index.resolve().as_uri() and index.is_file()
    last = json.loads((app.settings.home / "quality" / "results" / "last.json").read_text())
    assert last["run_id"] == report["run_id"] and last["success"]


def test_sql_check_characters_agree_with_the_domain(engine):
    """The SQL that narrows certificate numbers says "sound" exactly when the domain does."""
    import random

    from sqlalchemy import text

    from zhicheng.domain.certificate_numbers import make_number, number_problem
    from zhicheng.expectations.sql import Dialect
    rnd = random.Random(11)
    values = []
    for _ in range(300):
        no = make_number(rnd.choice(["320100", "321200", "110000"]), rnd.randint(2000, 2030),
                         rnd.randint(1, 5), rnd.randint(1, 999_999))
        values += [no, no[:17] + rnd.choice("0123456789X"), no[:-1], no + "1",
                   no[:5] + rnd.choice("AX ") + no[6:], no[:17] + "x"]
    with engine.begin() as conn:
        conn.execute(text("CREATE TEMPORARY TABLE numbers (no VARCHAR(20))"))
        conn.execute(text("INSERT INTO numbers (no) VALUES (:no)"), [{"no": v} for v in values])
        ok = Dialect(engine.dialect.name).mod11_2_ok("no")
        verdict = dict(conn.execute(text(f"SELECT no, CASE WHEN {ok} THEN 1 ELSE 0 END FROM numbers")).all())
    # SQL never passes a number the domain refuses; it may send the domain a number the
    # domain accepts only after normalising it (a lower-case x), never another
    assert not [v for v in values if verdict[v] and number_problem(v) is not None]
    assert not [v for v in values if not verdict[v] and number_problem(v) is None and v == v.upper()]
    assert sum(verdict.values()) >= 300 and sum(1 for v in verdict.values() if not v) >= 900


def test_each_planted_defect_is_caught_by_its_expectation_only(app):
    ids = clean_year(app)
    expected = plant_defects(app, ids)
    every = {(name, c.name) for name in SUITE_NAMES
             for c in build_suite(name, quality._params(app, quality.plan(app=app))).checks}
    assert set(expected) == every  # a defect of every kind is planted
    report = quality.run(app=app)
    assert not report["success"]
    for key, c in checks(report).items():
        assert c["error"] is None, (key, c["error"])
        column, values = expected[key]
        assert not c["success"], key
        assert {r[column] for r in c["rows"]} == values, (key, c["rows"])
        assert c["unexpected_count"] == len(c["rows"])


def test_each_check_runs_once_several_at_a_time(app, monkeypatch):
    """zhicheng quality computes a suite's checks on several connections before
    great-expectations asks for them; each query runs once, and what GX reads is that."""
    from zhicheng.expectations import gx
    plant_defects(app, clean_year(app))
    ran: list[tuple[str, str]] = []
    scan = gx._scan

    def counted(engine, query, check, chunk):
        ran.append((query, threading.current_thread().name))
        return scan(engine, query, check, chunk)
    monkeypatch.setattr(gx, "_scan", counted)
    report = quality.run(app=app, suite="certificates")
    assert checks(report)[("certificates", "serials_gapless")]["unexpected_count"] == 1
    queries = [q for q, _ in ran]
    assert not [q for q in set(queries) if queries.count(q) > 1]  # GX read what was computed
    assert len(queries) == len(build_suite("certificates", quality._params(app, quality.plan(app=app))).checks)
    if processes(0) > 1:  # one a core by default
        assert {thread for _, thread in ran} >= {"quality-check_0", "quality-check_1"}


def test_a_check_whose_query_fails_is_reported_and_the_others_still_run(app, monkeypatch):
    import dataclasses

    from zhicheng.expectations.spec import Check
    clean_year(app)
    broken = Check("broken", "坏的查询", "SELECT c.no_such_column FROM {batch} c")

    def with_broken(name, params):
        suite = build_suite(name, params)
        return dataclasses.replace(suite, checks=(*suite.checks, broken)) if name == "certificates" else suite
    monkeypatch.setattr(quality, "build_suite", with_broken)
    results = checks(quality.run(app=app, suite="certificates"))
    assert "no_such_column" in results[("certificates", "broken")]["error"]
    assert all(c["success"] for k, c in results.items() if k[1] != "broken")


def test_registered_numbers_are_kept_in_their_legacy_format_but_ours_must_check(app):
    """A 历史登记 keeps the historic certificate's number as it was (docs/lifecycle.md):
    a legacy 14-digit number is sound; one in our 18-character format with a wrong check
    character is a typo, and the number check names it."""
    from zhicheng.db.engine import unit_of_work
    from zhicheng.demo.issuance_samples import add_approved
    from zhicheng.domain.certificate_numbers import make_number
    from zhicheng.issuance import service as issuance
    from zhicheng.issuance.models import Certificate

    ours = make_number("320500", 2019, 4, 123)
    typo = ours[:17] + ("0" if ours[17] != "0" else "1")
    with unit_of_work(app.sessions) as s:
        for start, number in ((600, "32120020103000"), (601, ours), (602, typo)):
            add_approved(session=s, config=app.config, count=1, start=start, committee_id=None,
                         track="历史登记", prior_certificate_no=number)
    issuance.issue_batch(app=app, ctx=issuance.IssueContext.for_app(app))
    with app.sessions() as s:
        held = set(s.scalars(select(Certificate.certificate_no)))
    assert {"32120020103000", ours, typo} <= held
    check = checks(quality.run(app=app, suite="certificates"))[("certificates", "number_well_formed")]
    assert {r["certificate_no"] for r in check["rows"]} == {typo}, check["rows"]


def test_an_accepted_application_is_judged_by_the_region_it_submitted(app):
    """The employers row holds the employer's latest submission, which may be another
    applicant's, returned for an unknown region: the accepted ones keep their own."""
    from zhicheng.db.engine import unit_of_work
    from zhicheng.db.models import Employer
    from zhicheng.db.models import Application

    ids = clean_year(app)
    with unit_of_work(app.sessions) as s:
        s.get(Employer, s.get(Application, ids["spare"][0]).employer_id).region_code = "320599"
    check = checks(quality.run(app=app, suite="applications"))[("applications", "regions_known")]
    assert check["success"] and check["rows"] == [], check["rows"]


def test_one_suite_and_one_batch_year(app):
    ids = clean_year(app)
    plant_defects(app, ids)
    report = quality.run(app=app, suite="outbox")
    assert [s["suite"] for s in report["suites"]] == ["outbox"]
    assert {c["check"] for c in quality.failures(report)} == {"target_known", "nothing_pending_too_long"}
    other_year = quality.run(app=app, suite="applications", batch_year=2025)
    assert other_year["success"]  # the planted faults are all in 2026


def test_data_docs_keep_every_run_and_say_how_many_rows_were_checked(app):
    ids = clean_year(app)
    first = quality.run(app=app, suite="certificates")
    with app.sessions() as s:
        certificates = s.scalar(text("SELECT COUNT(*) FROM certificates"))
    plant_defects(app, ids)
    second = quality.run(app=app, suite="certificates")
    docs = app.settings.home / "quality"
    pages = sorted((docs / "validations").rglob("*.html"))
    assert len(pages) == 2 and {first["run_id"], second["run_id"]} == {
        p.relative_to(docs / "validations" / "certificates").parts[0] for p in pages}
    index = (docs / "index.html").read_text(encoding="utf-8")
    assert first["run_id"] in index and second["run_id"] in index
    page = next(p for p in pages if second["run_id"] in str(p)).read_text(encoding="utf-8")
    assert "serials_gapless" in page or "流水号从1起连续" in page
    assert "321200202630000" in page  # the row after the gap is listed
    # a check whose query selects only the offending rows counts the table's rows
    assert checks(first)[("certificates", "number_unique")]["checked"] == certificates > 0
    assert f"0 行不符合（检查 {certificates} 行）" in next(
        p for p in pages if first["run_id"] in str(p)).read_text(encoding="utf-8")
    assert (app.settings.home / "quality" / "results" / first["run_id"] / "summary.json").is_file()


def test_the_verb_exits_1_and_names_the_rows(app):
    ids = clean_year(app)
    runner = CliRunner()
    ok = runner.invoke(cli, ["quality", "--suite", "certificates", "--as-of", AS_OF])
    assert ok.exit_code == 0, ok.output
    expected = plant_defects(app, ids)
    r = runner.invoke(cli, ["quality", "--as-of", AS_OF])
    assert r.exit_code == 1, r.output
    gap = next(iter(expected[("certificates", "serials_gapless")][1]))
    covers = next(iter(expected[("applications", "committee_covers_declaration")][1]))
    assert gap in r.stdout and f"application_id={covers}" in r.stdout and "Data Docs:" in r.stdout
    r = runner.invoke(cli, ["quality", "--suite", "ballots", "--json"])
    doc = json.loads(r.stdout)
    assert r.exit_code == 1 and not doc["success"] and doc["suites"][0]["suite"] == "ballots"
    bad = runner.invoke(cli, ["quality", "--suite", "nonsense"])
    assert bad.exit_code == 2 and "applications" in bad.output


def test_the_verb_exits_2_on_a_database_without_tables(tmp_path, monkeypatch):
    monkeypatch.setenv("ZHICHENG_HOME", str(tmp_path))
    monkeypatch.setenv("ZHICHENG_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    r = CliRunner().invoke(cli, ["quality"])
    assert r.exit_code == 2 and "db upgrade" in r.output


def test_flow_leaves_a_summary_artifact_with_the_data_docs_link(app, prefect_harness):
    from prefect.artifacts import Artifact

    from zhicheng.flows.quality import quality as flow
    ids = clean_year(app)
    plant_defects(app, ids)
    from zhicheng.runtime import result_of
    state = flow(batch_year=2026, as_of=AS_OF, return_state=True)
    assert state.is_failed() and state.message.startswith("需要人工处理：数据质量检查")  # a person is needed
    summary = result_of(state)
    assert not summary["success"] and summary["checks"] == 30
    assert {(f["suite"], f["check"]) for f in summary["failed"]} >= {("outbox", "target_known")}
    artifact = Artifact.get("quality-2026")
    assert artifact is not None and summary["data_docs"] in str(artifact.data)
    assert "serials_gapless" in str(artifact.data)
    assert "| 较上次 |" in str(artifact.data) and "| 新 |" in str(artifact.data)  # the first run


def test_failing_rows_show_id_numbers_masked_everywhere(app):
    """The bad ID number's row is named by its application and a masked number in the
    result files, last.json, the Data Docs and the verb's output (docs/privacy.md)."""
    from sqlalchemy import select

    from zhicheng.db.models import Applicant
    from zhicheng.domain.privacy import mask_id_number
    ids = clean_year(app)
    plant_defects(app, ids)
    with app.sessions() as s:
        numbers = set(s.scalars(select(Applicant.id_number)))
    runner = CliRunner()
    shown = runner.invoke(cli, ["quality", "--suite", "applications", "--as-of", AS_OF])
    as_json = runner.invoke(cli, ["quality", "--suite", "applications", "--as-of", AS_OF, "--json"])
    report = json.loads(as_json.stdout)
    (row,) = checks(report)[("applications", "id_number_valid")]["rows"]
    assert row["id_number"] == mask_id_number(row["id_number"]) and row["id_number"][4:14] == "*" * 10
    written = [p.read_text(encoding="utf-8") for folder in ("quality", "gx")
               for p in (app.settings.home / folder).rglob("*") if p.suffix in (".json", ".html")]
    assert len(written) >= 4
    for page in [shown.stdout, as_json.stdout, *written]:
        assert not [n for n in numbers if n in page]


@pytest.mark.parametrize("argv", [["--help"]])
def test_the_verb_does_not_import_great_expectations_to_start(argv):
    import subprocess
    import sys
    code = ("import sys; from zhicheng.cli.main import app; "
            "assert 'great_expectations' not in sys.modules, 'imported at start'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_year_end_loads_great_expectations_only_when_its_quality_step_runs():
    """Importing the year-end and every step's flow (the quality flow's module too) costs
    no great-expectations import: seconds a process, paid by a run that checks (a
    year-end run with its quality step still to do starts it on a thread, below)."""
    import subprocess
    import sys
    code = ("import sys; import zhicheng.flows.year_end, zhicheng.flows.publicity, zhicheng.flows.issuance, "
            "zhicheng.flows.delivery, zhicheng.flows.quality, zhicheng.tasks.quality; "
            "assert 'great_expectations' not in sys.modules, 'imported before a quality step runs'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_preloading_imports_what_a_quality_run_needs():
    """What the year-end starts on a thread while its other steps run (tasks.year_end
    .preload_quality): the quality step then finds great-expectations imported."""
    import subprocess
    import sys
    code = ("import sys; from zhicheng.quality import service; service.preload(); "
            "assert {'great_expectations', 'zhicheng.expectations.gx', 'zhicheng.expectations.project', "
            "'zhicheng.expectations.runner'} <= set(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)
