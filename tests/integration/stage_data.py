"""Test data for the machine stages (votes, publicity): applications standing at a
given stage of their chain, with applicant (ID number, phone) and employer."""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from zhicheng.clock import SHANGHAI
from zhicheng.db.models import Applicant, Application, Employer
from zhicheng.domain.identity import make_id_number, make_uscc

COMMITTEE = "TZ-GC-ZJ"          # 市 tier, not delegated, 15 members


def employer(session, n: int, name: str) -> Employer:
    e = Employer(uscc=make_uscc("91", "321200", f"{n:08d}"), name=name, region_code="321200")
    session.add(e)
    session.flush()
    return e


def attach_employer(app: Application, e: Employer) -> Application:
    """The employer as the application submitted it, as intake records it: the row (by
    USCC) and the application's own copy of its words and region."""
    app.employer_id, app.employer_name, app.region_code = e.id, e.name, e.region_code
    app.employer_nature, app.employer_supervising_dept = e.nature, e.supervising_dept
    return app


def application(session, config, *, n: int, stage: str, employer_row: Employer,
                name: str | None = None, committee: str = COMMITTEE) -> Application:
    person = Applicant(id_number=make_id_number("321202", dt.date(1985, 1, 1) + dt.timedelta(days=n), n, "男"),
                       name=name or f"申报人{n:03d}", gender="男", phone=f"1390000{n:04d}")
    session.add(person)
    session.flush()
    chain = list(config.chains.route("市", "市级", False))
    app = Application(submission_id=f"SUB-{n:05d}", current_revision=1, applicant_id=person.id,
                      committee_id=committee, track="评审",
                      batch_year=2026, level="中级", series="工程", specialty="电气工程",
                      qualification_name="工程师", reporting_level="市级",
                      status="in_review", chain=chain, stage_index=chain.index(stage), stage=stage,
                      holds_year_slot=True, submitted_at=dt.datetime(2026, 5, 10, 9, 0, tzinfo=SHANGHAI))
    attach_employer(app, employer_row)
    session.add(app)
    session.flush()
    return app


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def write_xlsx(path: Path, sheets: dict[str, tuple[list[str], list[list]]]) -> Path:
    import openpyxl
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, (header, rows) in sheets.items():
        ws = wb.create_sheet(name)
        ws.append(header)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return path


def assert_chinese_font_embedded(doc) -> None:
    """Every page draws with a subset font (XXXXXX+ tag) whose program is in the file."""
    for page in doc:
        fonts = page.get_fonts(full=True)
        assert fonts, f"page {page.number} has no font"
        for f in fonts:
            assert "+" in f[3], f"font {f[3]} is not subset"
            assert doc.extract_font(f[0])[3], f"font {f[3]} is not embedded"
