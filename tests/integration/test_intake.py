"""Intake against the hall stand-in serving a generated year: exactly once in effect
under at-least-once delivery and faults, resubmissions, crashes and outages."""
import hashlib
import json

import pytest
from sqlalchemy import func, select

from support import audit_rules_suspended
from zhicheng.config import get_config
from zhicheng.connectors.hall import HallClient
from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import (Applicant, Application, ApplicationRevision, Employer, Finding, Material,
                                OutboxItem, SyncCursor)
from zhicheng.intake import service as intake
from zhicheng.settings import Settings
from zhicheng.standins.generator import generate

pytestmark = pytest.mark.usefixtures("year_dir")  # the hall fixture then serves the generated year


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    root = tmp_path_factory.mktemp("intake") / "year"
    manifest = generate(root, applications=40, seed=10, fault_rate=0.5)
    return root, manifest


@pytest.fixture
def year_dir(generated):
    return generated[0]


@pytest.fixture
def submissions(generated):
    return [json.loads(line) for line in (generated[0] / "submissions.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def client(hall, standin_credentials):
    app_id, secret = standin_credentials
    waits = []
    with HallClient.from_settings(Settings(hall_url=hall.url, hall_app_id=app_id, hall_app_secret=secret),
                                  get_config(), sleep=waits.append, seed=2) as c:
        yield c


def pull_all(app, client, limit=9, runs=4):
    """Pages until the hall has no more, as successive runs do: a page whose file the
    faulty hall refused five times in a row is left whole for the next run (its
    promise: "nothing was lost; the next run retries"), at most `runs` times over."""
    from zhicheng.connectors.errors import Unavailable
    pages, gave_up = [], 0
    while True:
        try:
            got = intake.pull_page(sessions=app.sessions, hall=client, config=app.config,
                                   files_root=app.settings.home, now=app.clock.now(), limit=limit)
        except Unavailable:
            gave_up += 1
            if gave_up >= runs:
                raise
            continue
        pages.append(got)
        if got.next_cursor is None:
            return pages


def state(app):
    with app.sessions() as s:
        apps = {a.submission_id: (a.current_revision, a.status) for a in s.scalars(select(Application))}
        revisions = s.scalar(select(func.count()).select_from(ApplicationRevision))
        materials = sorted((m.material_id, m.sha256 or "", m.storage_path or "") for m in s.scalars(select(Material)))
        findings = sorted((f.code, f.field or "") for f in s.scalars(select(Finding)))
        outbox = sorted(o.dedupe_key for o in s.scalars(select(OutboxItem)))
        return apps, revisions, materials, findings, outbox


def test_every_submission_once_with_its_files_under_faults(app, hall, client, submissions, generated):
    hall.faults.set("submissions", duplicate_rate=0.4, error_rate=0.2, drop_before_rate=0.1)
    hall.faults.set("material", error_rate=0.1, truncate_rate=0.05)
    pages = pull_all(app, client)
    apps, revisions, materials, findings, outbox = state(app)
    assert set(apps) == {s["submission_id"] for s in submissions} and revisions == len(submissions)
    assert sum(p.outcomes.get("duplicate", 0) for p in pages) > 0  # the faults did repeat items
    assert len(materials) == sum(len(s["materials"]) for s in submissions)
    for _, sha, path in [m for m in materials if m[2]]:
        data = (app.settings.home / path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == sha
    # a file beyond its size limit is not downloaded: intake's size finding instead
    too_large = [f for f in generated[1]["faults"] if f["code"] == "material.too_large"]
    assert too_large and len([m for m in materials if not m[2]]) == len(too_large)
    with app.sessions() as s:
        refused = {(a.submission_id, f.material_id) for f, a in s.execute(
            select(Finding, Application).join(Application, Application.id == Finding.application_id)
            .where(Finding.code == "material.too_large", Finding.source == "intake"))}
    assert refused == {(f["submission_id"], f["material_id"]) for f in too_large}
    invalid = {f["submission_id"] for f in generated[1]["faults"] if f["code"] == "submission.invalid"}
    assert invalid and {sid for sid, (_, st) in apps.items() if st == "invalid"} == invalid
    assert all(st == "received" for sid, (_, st) in apps.items() if sid not in invalid)
    assert outbox == sorted(f"return:{sid}:r1:{_stage(submissions, sid)}" for sid in invalid)
    assert not list((app.settings.home / "materials").rglob("*.tmp"))


def _stage(submissions, sid):
    track = next(s["track"] for s in submissions if s["submission_id"] == sid)
    return get_config().chains.tracks.get(track, ("评审申报",))[0]


def test_a_rerun_takes_in_nothing_twice_and_a_resubmission_supersedes(app, hall, client, submissions):
    pull_all(app, client)
    before = state(app)
    assert pull_all(app, client)[-1].received == 0 and state(app) == before
    first = dict(submissions[0], revision=2, work_summary="修改后的工作总结")
    hall.add_submission(first)
    hall.add_submission(dict(submissions[1], revision=2))
    outcomes = [p.outcomes for p in pull_all(app, client)]
    assert {k: v for o in outcomes for k, v in o.items()} == {"resubmission": 2}
    with app.sessions() as s:
        a = s.scalars(select(Application).where(Application.submission_id == first["submission_id"])).one()
        revs = s.scalars(select(ApplicationRevision).where(ApplicationRevision.application_id == a.id)
                         .order_by(ApplicationRevision.revision)).all()
        mats = s.scalar(select(func.count()).select_from(Material).where(Material.application_id == a.id))
    assert a.current_revision == 2 and [r.revision for r in revs] == [1, 2]
    assert revs[1].payload["work_summary"] == "修改后的工作总结"
    assert revs[0].payload["work_summary"] != "修改后的工作总结"
    assert mats == 2 * len(first["materials"])


def test_a_crash_mid_page_then_rerun_equals_an_unbroken_run(app, hall, client, monkeypatch):
    """The crash hits the second page's transaction half written: its applicants,
    employers, applications and revisions are in, its materials not yet."""
    from zhicheng.intake import storing
    real, calls = storing.insert_rows, {"n": 0}

    def dying(*, session, model, rows):
        calls["n"] += 1
        if calls["n"] == 5:   # a page inserts revisions, materials, findings: the 2nd page's materials
            raise RuntimeError("power cut")
        return real(session=session, model=model, rows=rows)

    monkeypatch.setattr(storing, "insert_rows", dying)
    with pytest.raises(RuntimeError):
        pull_all(app, client)
    monkeypatch.setattr(storing, "insert_rows", real)
    with app.sessions() as s:
        stored_at_crash = s.scalar(select(func.count()).select_from(Application))
    assert stored_at_crash == 9  # the first page committed, the second not at all
    pull_all(app, client)
    crashed = state(app)
    with app.sessions() as s:  # start over from nothing: the unbroken run
        with audit_rules_suspended(s):
            for model in (Finding, Material, ApplicationRevision, OutboxItem, Application, SyncCursor):
                s.query(model).delete()
        s.commit()
    pull_all(app, client)
    assert state(app) == crashed


def test_an_outage_stores_nothing_of_the_page_and_keeps_the_cursor(app, hall, client):
    from zhicheng.connectors.errors import Unavailable
    intake.pull_page(sessions=app.sessions, hall=client, config=app.config, files_root=app.settings.home,
                     now=app.clock.now(), limit=5)
    with app.sessions() as s:
        cursor = intake.current_cursor(session=s)
    hall.faults.set("material", error_rate=1.0)
    with pytest.raises(Unavailable):
        intake.pull_page(sessions=app.sessions, hall=client, config=app.config, files_root=app.settings.home,
                         now=app.clock.now(), limit=5)
    with app.sessions() as s:
        assert intake.current_cursor(session=s) == cursor
        assert s.scalar(select(func.count()).select_from(Application)) == 5


def test_the_flow_and_the_verb_pull_everything_and_refuse_a_second_runner(app, hall, standin_credentials,
                                                                          monkeypatch, prefect_harness,
                                                                          submissions):
    from typer.testing import CliRunner

    from zhicheng.cli.main import app as cli
    from zhicheng.flows.intake import intake as intake_flow
    from zhicheng.locks import exclusive
    app_id, secret = standin_credentials
    for key, value in {"URL": hall.url, "APP_ID": app_id, "APP_SECRET": secret}.items():
        monkeypatch.setenv(f"ZHICHENG_HALL_{key}", value)
    stale = app.settings.home / "materials" / "ab" / f"ab{'0' * 62}.4242.tmp"   # a killed run's download
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"%PDF-1.7 half")
    summary = intake_flow(page_size=15)
    assert not stale.exists()
    # the last page is the empty one that says "no more"
    assert (summary["pages"], summary["received"], summary["paused"]) == (4, 40, None)
    assert summary["new"] + summary["invalid"] == 40
    again = CliRunner().invoke(cli, ["intake", "--json"])
    assert again.exit_code == 0 and json.loads(again.stdout)["received"] == 0
    with exclusive(app.engine, "intake", now=app.clock.now()):
        busy = CliRunner().invoke(cli, ["intake"])
    assert busy.exit_code == 1 and "already running" in busy.stderr
    hall.faults.set("submissions", error_rate=1.0)
    paused = CliRunner().invoke(cli, ["intake"])
    assert paused.exit_code == 1 and "稍后再运行" in paused.stderr


def test_one_page_delivering_a_submission_twice_and_its_next_revision_stores_each_once(app, submissions):
    """A page is taken in memory, then written set-based, so what an earlier item of the
    same page stored must count: a repeat is a duplicate, a next revision supersedes, a
    repeated contract-breaking item is stored once, and one applicant row serves both."""
    first, broken = submissions[0], {"submission_id": 7}
    page = [first, first, dict(first, revision=2), broken, broken]
    with unit_of_work(app.sessions) as s:
        got = intake.store_page(session=s, items=page, files={}, config=app.config, now=app.clock.now())
    assert got == ["new", "duplicate", "resubmission", "invalid", "duplicate"]
    with app.sessions() as s:
        a = s.scalars(select(Application).where(Application.submission_id == first["submission_id"])).one()
        revisions = s.scalars(select(ApplicationRevision.revision)
                              .where(ApplicationRevision.application_id == a.id)).all()
        applicants = s.scalar(select(func.count()).select_from(Applicant))
    assert a.current_revision == 2 and sorted(revisions) == [1, 2] and applicants == 1
    assert a.applicant_id is not None and a.employer_id is not None


def test_an_applicant_and_an_employer_are_one_row_each_across_pages_a_blank_name_kept(app, submissions):
    """Applicants and employers are upserted by ID number and USCC (ON CONFLICT, on both
    engines): a later submission naming the same person or employer updates that row
    (its latest contact details and words), a blank name leaves the stored one, and both
    applications point at the one row."""
    first = submissions[0]
    person, firm = dict(first["applicant"], phone="13900000001"), dict(first["employer"], nature="民营企业")
    later = dict(first, submission_id=first["submission_id"] + "-b", revision=1,
                 applicant=dict(person, name="", phone="13900000002"), employer=dict(firm, name="", nature="国有企业"))
    for item in (dict(first, applicant=person, employer=firm), later):   # two pages, two transactions
        with unit_of_work(app.sessions) as s:
            intake.store_page(session=s, items=[item], files={}, config=app.config, now=app.clock.now())
    with app.sessions() as s:
        applicants, employers = s.scalars(select(Applicant)).all(), s.scalars(select(Employer)).all()
        apps = s.scalars(select(Application).order_by(Application.id)).all()
    assert [(a.id_number, a.name, a.phone) for a in applicants] == [
        (person["id_number"], person["name"], "13900000002")]
    assert [(e.uscc, e.name, e.nature) for e in employers] == [(firm["uscc"], firm["name"], "国有企业")]
    assert [a.applicant_id for a in apps] == [applicants[0].id] * 2
    assert [a.employer_id for a in apps] == [employers[0].id] * 2
    assert [a.employer_name for a in apps] == [firm["name"], None]   # each application keeps its own words


def test_a_page_is_stored_in_as_many_statements_whatever_its_size(app, submissions):
    """Set-based: the statements of a page do not grow with its submissions (a flush and
    several inserts a submission made intake's CPU ten times its floor, issue 25)."""
    from sqlalchemy import event

    from zhicheng.domain.submission import contract_problems
    sound = [s for s in submissions if not contract_problems(s)]
    counted: list[str] = []

    def count(conn, cursor, statement, *args):
        counted.append(statement)

    statements = []
    event.listen(app.engine, "before_cursor_execute", count)
    try:
        for page in (sound[:2], sound[2:20]):
            counted.clear()
            with unit_of_work(app.sessions) as s:
                got = intake.store_page(session=s, items=page, files={}, config=app.config, now=app.clock.now())
            assert got == ["new"] * len(page)
            statements.append(len(counted))
    finally:
        event.remove(app.engine, "before_cursor_execute", count)
    assert len(sound) >= 20 and statements[0] == statements[1]
