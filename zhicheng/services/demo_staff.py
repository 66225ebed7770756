"""The people of the demo: title-office staff, experts and applicants, as the files and
resubmissions they would produce. Each file is written to the demo's workspace and
imported with the same service the CLI verb uses, so the demo shows the real formats."""
from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhicheng.config import Config
from zhicheng.db.models import Application, ApplicationRevision, Employer, Finding

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "建国明华伟芳敏静丽强磊军洋勇艳杰娟涛超秀霞平刚桂英志文斌宇浩然晨欣怡子轩梓涵"


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def write_xlsx(path: Path, sheets: dict[str, tuple[Sequence[str], Iterable[Sequence[Any]]]]) -> Path:
    import openpyxl
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, (header, rows) in sheets.items():
        ws = wb.create_sheet(name)
        ws.append(list(header))
        for r in rows:
            ws.append(list(r))
    wb.save(path)
    return path


def roster_rows(config: Config, committee_ids: Iterable[str], rnd: random.Random) -> list[list[str]]:
    """Members M01.. of each committee with names and employers of their own."""
    rows = []
    for cid in sorted(committee_ids):
        for i in range(1, config.committees[cid].members + 1):
            name = rnd.choice(SURNAMES) + "".join(rnd.choice(GIVEN) for _ in range(rnd.choice((1, 2))))
            rows.append([cid, f"M{i:02d}", name, f"{config.committees[cid].name[:4]}专家单位{i:02d}", "", "在任"])
    return rows


def session_sheets(code: str, committee_id: str, held_on: dt.date, members: int, agenda: Sequence[str],
                   absent: int) -> dict[str, tuple[Sequence[str], list[list[Any]]]]:
    present = [f"M{i:02d}" for i in range(1, members + 1)]
    return {"会议": (("会议编号", "评委会编号", "召开日期"), [[code, committee_id, held_on.isoformat()]]),
            "议程": (("申报编号",), [[a] for a in agenda]),
            "出席": (("专家编号", "是否出席"), [[m, "否" if i >= members - absent else "是"]
                                           for i, m in enumerate(present)])}


def ballot_rows(code: str, agenda: Sequence[str], present: Sequence[str], failing: set[str],
                rnd: random.Random) -> list[list[str]]:
    """Every present expert votes on every item; the `failing` ones get too few yes votes."""
    rows = []
    for sid in agenda:
        for m in present:
            yes_share = 0.4 if sid in failing else 0.95
            rows.append([code, sid, m, "同意" if rnd.random() < yes_share else rnd.choice(("不同意", "弃权"))])
    return rows


# Findings an applicant can fix by editing the form (files would need a new upload).
FIXABLE = {
    "summary.too_long": lambda p: {**p, "work_summary": (p.get("work_summary") or "")[:1900]},
    "summary.many_blank_lines": lambda p: {**p, "work_summary": "\n".join(
        line for line in (p.get("work_summary") or "").splitlines() if line.strip())},
    "continuing_education.too_many": lambda p: {**p, "continuing_education": (p.get("continuing_education")
                                                                              or [])[:8]},
}


def resubmissions(session: Session, *, limit: int) -> list[dict[str, Any]]:
    """Returned applications whose every error an applicant fixes in the form: the
    corrected submission, one revision up (what the hall would deliver next)."""
    out = []
    for app in session.scalars(select(Application).where(Application.status == "returned")
                               .order_by(Application.id)):
        errors = {f.code for f in session.scalars(select(Finding).where(
            Finding.application_id == app.id, Finding.revision == app.current_revision,
            Finding.severity == "error"))}
        if not errors or not errors <= set(FIXABLE):
            continue
        payload = session.scalars(select(ApplicationRevision.payload).where(
            ApplicationRevision.application_id == app.id,
            ApplicationRevision.revision == app.current_revision)).one()
        for code in sorted(errors):
            payload = FIXABLE[code](payload)
        out.append({**payload, "revision": app.current_revision + 1})
        if len(out) >= limit:
            break
    return out


def employer_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    return {e.id: e.name for e in session.scalars(select(Employer).where(Employer.id.in_(list(ids))))}
