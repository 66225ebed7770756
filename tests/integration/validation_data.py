"""Test data for validation: applications stored as intake stores them (Application,
ApplicationRevision with the Submission as received, Applicant/Employer, Material rows
with files content-addressed under the workspace), from a dict or a generated year."""
from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from pathlib import Path

from sqlalchemy import select

from zhicheng.clock import SHANGHAI
from zhicheng.db.models import Applicant, Application, ApplicationRevision, Employer, Material
from zhicheng.domain.identity import make_id_number, make_uscc
from zhicheng.education.models import EducationCheck
from zhicheng.standins.yearfiles import read_material

import hostile_pdfs as h

RECEIVED_AT = dt.datetime(2026, 6, 1, 8, 0, tzinfo=SHANGHAI)


def submission(n: int = 1, *, track: str = "评审", id_number: str | None = None) -> tuple[dict, dict[str, bytes]]:
    """A clean 评审 (or 初定) submission and its files."""
    years = range(2021, 2026)
    idn = id_number or make_id_number("320102", dt.date(1980, 1, 1) + dt.timedelta(days=n), n, "男")
    tag = f"\n%applicant {n}\n".encode()   # each applicant's files are their own
    files = {"M01": h.scan_pdf(150) + tag, "M02": h.photo((390, 567), comment=f"applicant {n}"),
             "M03": h.text_pdf(1) + tag, "M04": h.text_pdf(2) + tag, "M05": h.scan_pdf(200) + tag}
    types = {"M01": "id_card", "M02": "photo", "M03": "commitment", "M04": "employer_consent", "M05": "diploma"}
    sub = {
        "submission_id": f"JS2026{n:06d}", "revision": 1, "track": track, "batch_year": 2026,
        "submitted_at": f"2026-06-{1 + n % 28:02d}T10:00:00+08:00",
        "applicant": {"name": f"申报人{n}", "id_number": idn, "gender": "男", "phone": "13800000000", "email": None},
        "employer": {"name": "南京电力设计院", "uscc": make_uscc("91", "320102", "MA1X0001"), "nature": "企业单位",
                     "region_code": "320102", "supervising_dept": None, "public_institution_staff": False},
        "declared": {"level": "副高级", "series": "工程", "specialty": "电气工程", "qualification_name": "高级工程师",
                     "committee_id": "JS-GC-DQ-GJ", "reporting_level": "省直", "exceptional": False},
        "education": [{"kind": "学历", "level": "本科", "school": "南京大学", "major": "电气工程",
                       "graduation_date": "2005-06-30", "certificate_no": "102841200505001234",
                       "chsi_fetched": False, "material_id": "M05"}],
        "work_history": [], "achievements": [], "papers": [],
        "continuing_education": [{"year": y, "course": "公需科目", "kind": "公需科目", "hours": 24, "passed": True,
                                  "material_id": None} for y in years],
        "annual_assessments": [{"year": y, "result": "合格", "material_id": None} for y in years],
        "work_summary": "本人从事电气工程设计工作。" * 90,
        "materials": [{"material_id": mid, "type": types[mid],
                       "file_name": f"{types[mid]}.{'jpg' if mid == 'M02' else 'pdf'}",
                       "size": len(data), "sha256": hashlib.sha256(data).hexdigest()} for mid, data in files.items()],
        "prior_certificate_no": None,
    }
    if track == "初定":
        sub["declared"].update(level="助理级", series="工程", committee_id=None, qualification_name="助理工程师")
    return sub, files


def replace_file(sub: dict, files: dict[str, bytes], mid: str, data: bytes, *, declare: bool = True) -> dict:
    """The submission with material `mid` uploaded as `data` (declared as such unless told not to)."""
    sub = copy.deepcopy(sub)
    files[mid] = data
    if declare:
        m = next(m for m in sub["materials"] if m["material_id"] == mid)
        m.update(size=len(data), sha256=hashlib.sha256(data).hexdigest())
    return sub


def store(session, sub: dict, files: dict[str, bytes], *, files_root: Path, committees=None,
          status: str = "received", chsi_checked: bool = True) -> Application:
    """Store one submission and its files as intake does (and, unless told not to, as the
    学信 education sync leaves it when 学信 verified everything)."""
    a, e, d = sub["applicant"], sub["employer"], sub["declared"]
    applicant = session.scalars(select(Applicant).where(Applicant.id_number == a["id_number"])).first()
    if applicant is None:
        applicant = Applicant(id_number=a["id_number"], name=a["name"], gender=a.get("gender"))
        session.add(applicant)
    employer = session.scalars(select(Employer).where(Employer.uscc == e["uscc"])).first()
    if employer is None:
        employer = Employer(uscc=e["uscc"], name=e["name"], region_code=e["region_code"])
        session.add(employer)
    session.flush()
    committee = d.get("committee_id") if committees is None or d.get("committee_id") in committees else None
    app = Application(submission_id=sub["submission_id"], current_revision=sub["revision"],
                      applicant_id=applicant.id, employer_id=employer.id, employer_name=e["name"],
                      committee_id=committee,
                      track=sub["track"], batch_year=sub["batch_year"], level=d.get("level"), series=d.get("series"),
                      specialty=d.get("specialty"), qualification_name=d.get("qualification_name"),
                      reporting_level=d.get("reporting_level"), region_code=e["region_code"], status=status,
                      submitted_at=dt.datetime.fromisoformat(sub["submitted_at"]))
    session.add(app)
    session.flush()
    add_revision(session, app, sub, files, files_root=files_root, chsi_checked=chsi_checked)
    return app


def chsi_verified(session, app: Application, sub: dict) -> None:
    """The education sync's checks of a revision 学信 verified in full."""
    subjects = [f"entry:{i}" for i, _ in enumerate(sub.get("education") or [])]
    subjects += [f"report:{m['material_id']}" for m in sub["materials"] if m["type"] == "chsi_report"]
    for subject in subjects:
        session.add(EducationCheck(application_id=app.id, revision=sub["revision"], subject=subject,
                                   outcome="valid" if subject.startswith("report:") else "verified",
                                   fields=[], record=None, checked_at=RECEIVED_AT))


def add_revision(session, app: Application, sub: dict, files: dict[str, bytes], *, files_root: Path,
                 chsi_checked: bool = True) -> None:
    session.add(ApplicationRevision(application_id=app.id, revision=sub["revision"], payload=sub, valid=True,
                                    payload_sha256=hashlib.sha256(json.dumps(sub, sort_keys=True).encode()).hexdigest(),
                                    received_at=RECEIVED_AT))
    for m in sub["materials"]:
        data = files.get(m["material_id"])
        sha = hashlib.sha256(data).hexdigest() if data is not None else None
        rel = f"materials/{sha[:2]}/{sha}" if sha else None
        if data is not None:
            (files_root / rel).parent.mkdir(parents=True, exist_ok=True)
            (files_root / rel).write_bytes(data)
        session.add(Material(application_id=app.id, revision=sub["revision"], material_id=m["material_id"],
                             type=m["type"], file_name=m["file_name"],
                             declared_size=m["size"] if isinstance(m["size"], int) else None,
                             declared_sha256=m["sha256"], size=len(data) if data is not None else None, sha256=sha,
                             storage_path=rel, fetched_at=RECEIVED_AT if data is not None else None))
    if chsi_checked:
        chsi_verified(session, app, sub)
    session.flush()


def load_year(session, year: Path, *, files_root: Path, config, now: dt.datetime) -> dict:
    """A generated year stored by intake's own store step (the hall's HTTP left out):
    files written content-addressed, contract-invalid submissions stored as invalid."""
    from zhicheng.intake.service import StoredFile, material_path, store_submission
    files = {}
    for r in map(json.loads, (year / "materials.jsonl").read_text().splitlines()):
        data = read_material(year / r["path"])
        sha = hashlib.sha256(data).hexdigest()
        (files_root / material_path(sha)).parent.mkdir(parents=True, exist_ok=True)
        (files_root / material_path(sha)).write_bytes(data)
        files[(r["submission_id"], r["material_id"])] = StoredFile(sha, len(data), r["content_type"],
                                                                    material_path(sha))
    for line in (year / "submissions.jsonl").read_text().splitlines():
        store_submission(session=session, item=json.loads(line), files=files, config=config, now=now)
    return json.loads((year / "manifest.json").read_text())
