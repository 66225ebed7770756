"""Test data for the 学信 education sync: applications with declared education and
uploaded 学信 reports (text PDFs carrying an online code), and what 学信 holds."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from zhicheng.clock import SHANGHAI
from zhicheng.db.models import Application, ApplicationRevision, Material
from zhicheng.domain.identity import make_id_number

RECORD = {"record_id": "R1", "kind": "学历", "level": "本科", "school": "南京大学", "major": "电气工程",
          "study_form": "普通全日制", "enrollment_date": "2010-09-01", "graduation_date": "2014-06-30",
          "certificate_no": "102841201405001234"}


def person(n: int) -> tuple[str, str]:
    return make_id_number("320102", dt.date(1990, 1, 1) + dt.timedelta(days=n), n, "男"), f"申报人{n:03d}"


def entry(**over) -> dict:
    e = {k: RECORD[k] for k in ("kind", "level", "school", "major", "graduation_date", "certificate_no")}
    e.update({"chsi_fetched": False, "material_id": None})
    e.update(over)
    return e


def report_pdf(path: Path, *, code: str | None, name: str, id_number: str, valid_until: str) -> None:
    import pymupdf as fitz
    doc = fitz.open()
    page = doc.new_page()
    lines = ["教育部学历证书电子注册备案表", f"姓名：{name}", f"证件号码：{id_number}",
             f"学校名称：{RECORD['school']}  专业：{RECORD['major']}"]
    if code:
        lines += [f"在线验证码：{code}", f"本备案表有效期至：{valid_until}"]
    for i, line in enumerate(lines):
        page.insert_text((50, 60 + 20 * i), line, fontname="china-s", fontsize=11)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(path)
    doc.close()


def application(session, *, n: int, entries: list[dict], files_root: Path, name: str | None = None,
                reports: list[dict] | None = None, status: str = "validated") -> Application:
    """reports: [{"code": ..., "name"?: ..., "id_number"?: ..., "valid_until"?: ...}]"""
    id_number, default_name = person(n)
    name = name or default_name
    app = Application(submission_id=f"EDU-{n:05d}", current_revision=1, status=status, track="评审",
                      batch_year=2026)
    session.add(app)
    session.flush()
    payload = {"submission_id": app.submission_id, "revision": 1,
               "applicant": {"name": name, "id_number": id_number}, "education": entries}
    session.add(ApplicationRevision(application_id=app.id, revision=1, payload=payload, payload_sha256="0" * 64,
                                    valid=True, received_at=dt.datetime(2026, 5, 10, 9, 0, tzinfo=SHANGHAI)))
    for i, rep in enumerate(reports or []):
        rel = Path("materials") / app.submission_id / f"R{i}.pdf"
        report_pdf(files_root / rel, code=rep.get("code"), name=rep.get("name", name),
                   id_number=rep.get("id_number", id_number), valid_until=rep.get("valid_until", "2099-12-31"))
        session.add(Material(application_id=app.id, revision=1, material_id=f"R{i}", type="chsi_report",
                             file_name=f"学信备案表{i}.pdf", storage_path=str(rel)))
    session.flush()
    return app
