"""A generated year loads into the hall and 学信 stand-ins and answers as written."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from urllib.parse import quote

import pytest

from zhicheng.config import load_config
from zhicheng.standins.generator import generate
from zhicheng.standins.yearfiles import read_jsonl

pytestmark = pytest.mark.usefixtures("year_dir")  # the hall and chsi fixtures then load it
CONFIG = load_config(Path(__file__).resolve().parents[2] / "config")


@pytest.fixture
def year_dir(tmp_path):
    generate(tmp_path / "year", applications=30, seed=21, config=CONFIG, fault_rate=0.5)
    return tmp_path / "year"


def test_hall_serves_the_submissions_and_their_bytes(hall, standin_call, year_dir):
    written = read_jsonl(year_dir / "submissions.jsonl")
    page = standin_call(hall, "GET", "/api/v1/submissions?limit=500").json()
    assert [s["submission_id"] for s in page["items"]] == [s["submission_id"] for s in written]
    assert page["items"] == written  # unknown extra fields and ill-typed ones included
    sub = next(s for s in written if len(s["materials"]) > 2)
    for m in sub["materials"]:
        r = standin_call(hall, "GET", f"/api/v1/submissions/{sub['submission_id']}/materials/{m['material_id']}")
        assert r.status_code == 200
        assert r.headers["X-Content-SHA256"] == hashlib.sha256(r.content).hexdigest()


def test_chsi_answers_records_and_reports(chsi, standin_call, year_dir):
    import datetime as dt
    chsi.today_fixed = dt.date(2026, 6, 1)  # reports expire against the batch, not the wall clock
    people = read_jsonl(year_dir / "chsi" / "records.jsonl")
    person = people[0]
    target = f"/api/v1/education-records?id_number={person['id_number']}&name={quote(person['name'])}"
    assert standin_call(chsi, "GET", target).json()["records"] == person["records"]
    for report in read_jsonl(year_dir / "chsi" / "reports.jsonl"):
        r = standin_call(chsi, "GET", f"/api/v1/verification-reports/{report['online_code']}")
        assert r.status_code == (200 if report["valid_until"] >= "2026-06-01" else 410), json.dumps(report)
