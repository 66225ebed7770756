"""What 学信 holds for each synthetic applicant, and the 备案表 (report) they upload.

Records equal the declared education unless a 学信 fault says otherwise; report faults go
to applicants whose education 学信 holds exactly (docs/year-directory.md)."""
from __future__ import annotations

import datetime as dt
import hashlib
import random
from typing import Any

from zhicheng.standins import applicants as ap
from zhicheng.standins import names, vocab

_ONLINE_CODE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
REPORT_KINDS = ("report_expired", "report_other_person", "report_unknown", "report_unreadable", "report_mismatch")


def chsi(year, rng: random.Random, state: dict[str, Any]) -> dict[str, Any]:
    """Decide what 学信 holds for the applicant and whether a report is uploaded."""
    sub, kind, person = state["sub"], state["kind"], state["person"]
    entries = state["education"]
    ctx: dict[str, Any] = {"report": None, "access_series": set(year.policy.access_qualification_series),
                           "access_name": vocab.ACCESS_QUALIFICATIONS.get(
                               "高校教师" if sub["declared"]["series"] == "高校教师" else "卫生技术"),
                           "summary_excerpt": (sub["work_summary"] or "本人工作认真负责。")[:300]}
    if sub["track"] == "历史登记":
        ctx["history_kinds"] = rng.sample(["history_form", "old_certificate", "history_approval"],
                                          rng.choice((2, 3)))
    if state["twin"] is not None:  # the same person: 学信 already holds them
        return ctx
    records = [ap.chsi_record(e, f"CHSI{hashlib.sha1(e['_cert'].encode()).hexdigest()[:12]}")
               for e in entries]
    holder = person.name
    if kind == "chsi_not_held":
        for k, e in enumerate(entries):
            year.fault(sub, kind, field=f"education[{k}]", detail=f"{e['kind']} {e['school']}")
        records = []
    elif kind == "chsi_mismatch":
        what = rng.choice(("school", "major", "graduation_date"))
        rec = records[0]
        if what == "school":
            rec["school"] = next(s for s, _ in vocab.UNIVERSITIES + vocab.COLLEGES if s != rec["school"])
        elif what == "major":
            rec["major"] = rec["major"] + "（专升本）" if rng.random() < 0.5 else "工商管理"
        else:
            d = dt.date.fromisoformat(rec["graduation_date"])
            rec["graduation_date"] = d.replace(year=d.year - 1).isoformat()
        year.fault(sub, kind, field="education[0]", detail=what)
    elif kind == "chsi_name_mismatch":
        holder = names.other_name(rng, person.name)
        year.fault(sub, kind, field="applicant.name", detail=f"学信 holds the records under {holder}")
    else:
        typed = kind in ("no_certificate_no", "scan_missing")  # typed in, scans uploaded
        if not typed and rng.random() < float(year.gen.chsi_fetched_rate):
            for e in entries:
                e["chsi_fetched"] = True
        if kind in REPORT_KINDS or (not typed and rng.random() < 0.8):
            record = records[0]
            if kind == "report_mismatch":  # the report of an education not declared
                record = undeclared(year, rng, entries[0], person)
                records.append(record)
            ctx["report"] = report(year, rng, sub, person, record, kind)
            ctx["report_scanned"] = kind == "report_unreadable"
    if records:
        year.chsi_people[sub["applicant"]["id_number"]] = {
            "id_number": sub["applicant"]["id_number"], "name": holder, "records": records}
    return ctx

def report(year, rng: random.Random, sub: dict, person: ap.Person, record: dict, kind: str | None) -> dict:
    code = online_code(year, rng)
    submitted = dt.date.fromisoformat(sub["submitted_at"][:10])
    valid_until = dt.date(year.year + 2, rng.randint(1, 12), rng.randint(1, 28))  # outlives the demo
    printed = submitted - dt.timedelta(days=rng.randint(1, 40))
    name, id_number, gender = person.name, sub["applicant"]["id_number"], person.gender
    if kind == "report_expired":
        valid_until = year.ctx.opens - dt.timedelta(days=rng.randint(5, 200))
        printed = valid_until - dt.timedelta(days=180)
        year.fault(sub, kind, field="education[0]", detail=valid_until.isoformat())
    elif kind == "report_other_person":  # a classmate's report: same school, major, year
        gender = rng.choice(("男", "女"))
        name = names.person_name(rng, gender)[0]
        id_number = ap.make_id_number(rng.choice(year.ctx.counties), person.birth, 700 + rng.randrange(200), gender)
        year.fault(sub, kind, field="education[0]", detail=f"report of {name} {id_number}")
    elif kind == "report_unknown":
        year.fault(sub, kind, field="education[0]", detail=code)
    elif kind == "report_unreadable":
        year.fault(sub, kind, field="education[0]", detail="备案表 uploaded as a scan: no text")
    elif kind == "report_mismatch":
        year.fault(sub, kind, field="education[0]", detail=f"report of {record['level']} {record['school']}")
    report = {"online_code": code, "valid_until": valid_until.isoformat(), "id_number": id_number,
              "name": name, "record": record}
    if kind != "report_unknown":
        year.reports.append(report)
    return {**report, "gender": gender, "printed_on": printed.isoformat()}

def undeclared(year, rng: random.Random, declared: dict, person: ap.Person) -> dict:
    """Another 学历 of the person that 学信 holds but the applicant did not declare:
    an earlier 专科, or for a 专科 graduate a later 本科 by adult education (专升本)."""
    grad = dt.date.fromisoformat(declared["graduation_date"])
    if declared["level"] == "专科":
        level, school, grad = "本科", rng.choice(vocab.UNIVERSITIES), grad.replace(year=grad.year + 2)
    else:
        level, school, grad = "专科", rng.choice(vocab.COLLEGES), grad.replace(year=grad.year - 4)
    cert = f"{school[1]}5{grad.year}{'05' if level == '本科' else '06'}{rng.randrange(10**6):06d}"
    return {"record_id": f"CHSI{hashlib.sha1(cert.encode()).hexdigest()[:12]}", "kind": "学历", "level": level,
            "school": school[0], "major": declared["major"], "study_form": "成人教育",
            "enrollment_date": grad.replace(year=grad.year - 3, month=3, day=1).isoformat(),
            "graduation_date": grad.isoformat(), "certificate_no": cert}

def online_code(year, rng: random.Random) -> str:
    while True:
        code = "".join(rng.choice(_ONLINE_CODE_CHARS) for _ in range(16))
        if code not in year.codes:
            year.codes.add(code)
            return code
