"""Each application shows the employer as it submitted it, on both engines: a later
submission naming the same USCC (the employers row's key) with other words changes
nothing shown next to an earlier applicant: publicity list, vote report, the overdue
report's office, the certificate's issuer. Migration 0005 fills the copy in for
applications stored before it."""
from __future__ import annotations

import copy
import datetime as dt
import json

import openpyxl
import pytest
from sqlalchemy import select, text

from stage_data import COMMITTEE
from zhicheng.db import migrate
from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import Application, Employer
from zhicheng.intake import service as intake
from zhicheng.issuance.service import resolve_issuer
from zhicheng.publicity import service as publicity
from zhicheng.review import service as review
from zhicheng.review.overdue import overdue_report
from zhicheng.standins.generator import generate
from zhicheng.votes.reports import write_session_report
from zhicheng.workspace import working_calendar

IMPOSTOR = {"name": "冒名单位（另一申报人所填）", "nature": "企业", "region_code": "320102",
            "supervising_dept": "南京市某局"}


@pytest.fixture(scope="module")
def two_submissions(tmp_path_factory):
    """Two applicants; the second names the first one's USCC with other words."""
    root = tmp_path_factory.mktemp("snapshot")
    generate(root, applications=2, seed=11, fault_rate=0)
    first, second = (json.loads(line) for line in (root / "submissions.jsonl").read_text(encoding="utf-8")
                     .splitlines()[:2])
    second = copy.deepcopy(second)
    second["employer"] = {**first["employer"], **IMPOSTOR}
    return first, second


@pytest.fixture
def stored(app, two_submissions):
    """Both stored by intake, in order; then both on the 评审 chain of TZ-GC-ZJ."""
    with unit_of_work(app.sessions) as s:
        for item in two_submissions:
            intake.store_submission(session=s, item=item, files={}, config=app.config, now=app.clock.now())
        apps = [s.scalars(select(Application).where(Application.submission_id == i["submission_id"])).one()
                for i in two_submissions]
        for a in apps:
            a.track, a.committee_id, a.reporting_level, a.status = "评审", COMMITTEE, "市级", "validated"
        s.flush()
        for a in apps:
            review.enter_chain(session=s, application_id=a.id, now=app.clock.now(), config=app.config)
    return app


def _names(two_submissions):
    return two_submissions[0]["employer"]["name"], IMPOSTOR["name"]


def test_the_employer_row_holds_the_latest_words_each_application_its_own(stored, two_submissions):
    first, second = two_submissions
    with stored.sessions() as s:
        row = s.scalars(select(Employer)).one()            # one USCC, one row
        apps = {a.submission_id: a for a in s.scalars(select(Application))}
    assert row.name == IMPOSTOR["name"]
    a, b = apps[first["submission_id"]], apps[second["submission_id"]]
    assert a.employer_id == b.employer_id == row.id
    assert (a.employer_name, a.employer_nature, a.employer_supervising_dept, a.region_code) == (
        first["employer"]["name"], first["employer"]["nature"], first["employer"]["supervising_dept"],
        first["employer"]["region_code"])
    assert (b.employer_name, b.employer_supervising_dept, b.region_code) == (
        IMPOSTOR["name"], IMPOSTOR["supervising_dept"], IMPOSTOR["region_code"])


def test_publicity_list_and_vote_report_show_each_applications_own_employer(stored, two_submissions, tmp_path):
    ids = [i["submission_id"] for i in two_submissions]
    with unit_of_work(stored.sessions) as s:
        for a in s.scalars(select(Application)):
            a.stage_index = a.chain.index("评前公示")
            a.stage = "评前公示"
        r = publicity.open_window(session=s, kind="评前", committee_id=COMMITTEE, config=stored.config,
                                  calendar=working_calendar(stored.config.directory),
                                  now=stored.clock.now(), out_dir=tmp_path)
        window = s.get(publicity.PublicityWindow, r["window"])
        listed = [row[2] for row in publicity.list_rows(session=s, window=window)]
    assert listed == list(_names(two_submissions))
    sheet = [row for row in openpyxl.load_workbook(r["list_xlsx"])["名单"].iter_rows(values_only=True)]
    assert [row[2] for row in sheet if isinstance(row[0], int)] == list(_names(two_submissions))

    result = {"session": "TZ-2026-01", "committee": COMMITTEE, "held_on": "2026-06-10", "members_total": 15,
              "present": 12, "quorum_needed": 10, "quorum": True, "anomalies": [],
              "applications": [{"application": i, "present": 12, "recused": 0, "yes": 9, "no": 3, "abstain": 0,
                                "missing": 0, "threshold": 8, "outcome": "pass"} for i in ids]}
    with stored.sessions() as s:
        paths = write_session_report(session=s, result=result, config=stored.config, out_dir=tmp_path)
    rows = list(openpyxl.load_workbook(paths["xlsx"])["表决结果"].iter_rows(values_only=True))
    assert {row[0]: row[2] for row in rows if row[0] in ids} == dict(zip(ids, _names(two_submissions), strict=True))


def test_overdue_office_and_certificate_issuer_follow_each_applications_own_employer(stored, two_submissions):
    stored.clock.set(dt.datetime(2026, 9, 1, 10, 0))
    offices = {r["submission_id"]: r["office"] for r in overdue_report(stored)["rows"]}
    assert offices == dict(zip((i["submission_id"] for i in two_submissions), _names(two_submissions), strict=True))
    with stored.sessions() as s:
        apps = {a.submission_id: a for a in s.scalars(select(Application))}
    first, second = (apps[i["submission_id"]] for i in two_submissions)
    first.committee_id = second.committee_id = None       # issued by the title office of the region
    assert resolve_issuer(first, stored.config).region_code[:4] == first.region_code[:4] != "3201"
    assert resolve_issuer(second, stored.config).region_code[:4] == "3201"


def test_migration_copies_the_current_employer_into_each_application(empty_engine):
    url = empty_engine.url.render_as_string(hide_password=False)
    migrate.upgrade(url, engine=empty_engine, revision="0003")
    with empty_engine.begin() as conn:
        conn.execute(text("INSERT INTO employers (id, uscc, name, nature, region_code, supervising_dept) "
                          "VALUES (1, '91321200000000001X', '泰州电力公司', '企业', '321200', '泰州市国资委')"))
        conn.execute(text("INSERT INTO applications (id, submission_id, current_revision, employer_id, region_code, "
                          "status, holds_year_slot, created_at, updated_at) VALUES "
                          "(1, 'S1', 1, 1, NULL, 'received', false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), "
                          "(2, 'S2', 1, 1, '321202', 'received', false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), "
                          "(3, 'S3', 1, NULL, '320102', 'received', false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
    migrate.upgrade(url, engine=empty_engine)
    with empty_engine.connect() as conn:
        got = conn.execute(text("SELECT submission_id, employer_name, employer_nature, employer_supervising_dept, "
                                "region_code FROM applications ORDER BY id")).all()
    assert [tuple(r) for r in got] == [("S1", "泰州电力公司", "企业", "泰州市国资委", "321200"),
                                       ("S2", "泰州电力公司", "企业", "泰州市国资委", "321202"),
                                       ("S3", None, None, None, "320102")]
