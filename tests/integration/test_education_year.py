"""The education rules over a generated year find exactly the 学信 faults it planted.

Pure rules and the year's own files (no network): the 学信 data is read from the year
directory as the stand-in would serve it; report expiry is judged on the generation day.
"""
import datetime as dt
import json

import pytest

from zhicheng.domain import education as rules
from zhicheng.files.pdf_inspect import InspectLimits, text_of
from zhicheng.standins.yearfiles import read_material

PER_ENTRY = ("chsi.mismatch", "chsi.not_held", "chsi.name_mismatch")


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    from zhicheng.standins.generator import generate
    out = tmp_path_factory.mktemp("edu-year")
    generate(out, applications=300, seed=5)
    return out


def lines(path):
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def judge(sub, people, reports, files, year, today):
    a, sid = sub["applicant"], sub["submission_id"]
    person = people.get(a["id_number"])
    records = [] if person is None else (person["records"] if person["name"] == a["name"] else None)
    for e in sub["education"]:
        if records is None:
            yield sid, None, "chsi.name_mismatch"
            continue
        outcome = rules.match_entry(e, records).outcome
        if outcome in (rules.MISMATCHED, rules.NOT_HELD):
            yield sid, None, "chsi.mismatch" if outcome == rules.MISMATCHED else "chsi.not_held"
    for m in sub["materials"]:
        path = files.get((sid, m["material_id"]))
        if m["type"] != "chsi_report" or path is None:
            continue
        code = rules.extract_online_code(text_of(read_material(year / path), InspectLimits()))
        report = reports.get(code)
        if code is None:
            yield sid, m["material_id"], "chsi.report_unreadable"
        elif report is None:
            yield sid, m["material_id"], "chsi.report_unknown"
        elif dt.date.fromisoformat(report["valid_until"]) < today:
            yield sid, m["material_id"], "chsi.report_expired"
        else:
            for code, _ in rules.check_report(report, id_number=a["id_number"], name=a["name"],
                                              entries=sub["education"]):
                yield sid, m["material_id"], code


def test_exactly_the_planted_chsi_faults_are_found(year):
    manifest = json.loads((year / "manifest.json").read_text(encoding="utf-8"))
    invalid = {f["submission_id"] for f in manifest["faults"] if f["code"] == "submission.invalid"}
    planted = {(f["submission_id"], None if f["code"] in PER_ENTRY else f["material_id"], f["code"])
               for f in manifest["faults"] if f["code"].startswith("chsi.")}
    people = {p["id_number"]: p for p in lines(year / "chsi" / "records.jsonl")}
    reports = {r["online_code"]: r for r in lines(year / "chsi" / "reports.jsonl")}
    files = {(m["submission_id"], m["material_id"]): m["path"] for m in lines(year / "materials.jsonl")}
    today = dt.date.fromisoformat(manifest["generated_at"][:10])
    found = set()
    for sub in lines(year / "submissions.jsonl"):
        if sub["submission_id"] not in invalid:  # invalid ones never reach the sync
            found |= set(judge(sub, people, reports, files, year, today))
    assert len({code for _, _, code in planted}) >= 4, "the year should plant several kinds of 学信 faults"
    assert found == planted
