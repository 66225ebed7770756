"""The people of the demo: title-office staff, experts and applicants, as the files and
resubmissions they would produce. Each file is written to the demo's workspace and
imported with the same service the CLI verb uses, so the demo shows the real formats."""
from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhicheng.config import Config
from zhicheng.db.batches import in_pages
from zhicheng.db.models import Applicant, Application, ApplicationRevision, Finding
from zhicheng.domain.application_status import ApplicationStatus

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "建国明华伟芳敏静丽强磊军洋勇艳杰娟涛超秀霞平刚桂英志文斌宇浩然晨欣怡子轩梓涵"


def roster_rows(config: Config, committee_ids: Iterable[str], rnd: random.Random) -> list[list[str]]:
    """Members M01.. of each committee with names and employers of their own."""
    rows = []
    for cid in sorted(committee_ids):
        for i in range(1, config.committees[cid].members + 1):
            rows.append([cid, f"M{i:02d}", person_name(rnd), f"{config.committees[cid].name[:4]}专家单位{i:02d}",
                         "", "在任"])
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


# The most applications one sitting of a committee decides: a committee meets several
# times through a large year, as real ones do, so a tally holds one sitting's ballots,
# never the year's.
SESSION_ITEMS = 1_000


def sittings(committee_id: str, year: int, agenda: Sequence[str],
             size: int = SESSION_ITEMS) -> list[tuple[str, list[str], set[str]]]:
    """A committee's year as sittings of at most `size` items, in agenda order: each
    sitting's code, its items, and the one the experts fail (the year's last, when the
    committee has more than two)."""
    failing = {agenda[-1]} if len(agenda) > 2 else set()
    return [(f"{committee_id}-{year}-{n:02d}", items, failing & set(items))
            for n, items in enumerate(in_pages(agenda, size), 1)]


# The most rows staff put in one file: a day's sheet of one office, or one clerk's
# share of a committee session's ballots, not the province's whole year. It also keeps
# each import's memory bounded whatever the year's size (an import holds its file).
SHEET_ROWS = 5_000


def sheet_files(rows: list[list[str]], max_rows: int) -> list[list[list[str]]]:
    """Rows as staff send them: files of at most SHEET_ROWS that the import accepts.
    policy.yaml imports.max_rows counts a sheet's rows, its column names' row included,
    so a file holds one row fewer than that (a larger file is refused whole with "split
    the file")."""
    return list(in_pages(rows, min(SHEET_ROWS, max_rows - 1))) or [rows]


# Findings an applicant can fix by editing the form (files would need a new upload).
FIXABLE = {
    "summary.too_long": lambda p: {**p, "work_summary": (p.get("work_summary") or "")[:1900]},
    "summary.many_blank_lines": lambda p: {**p, "work_summary": "\n".join(
        line for line in (p.get("work_summary") or "").splitlines() if line.strip())},
    "continuing_education.too_many": lambda p: {**p, "continuing_education": (p.get("continuing_education")
                                                                              or [])[:8]},
}


def resubmissions(*, session: Session, limit: int) -> list[dict[str, Any]]:
    """Returned applications whose every error an applicant fixes in the form: the
    corrected submission, one revision up (what the hall would deliver next)."""
    out = []
    for app in session.scalars(select(Application).where(Application.status == ApplicationStatus.RETURNED)
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


REVIEW_HEADER = ("申报编号", "姓名", "环节", "处理结果", "意见", "经办人", "处理单位", "处理时间")
RESULTS = {"approve": "通过", "return": "退回", "reject": "不通过"}
REASONS = {"approve": "材料齐全，同意推荐", "return": "业绩材料不清晰，请补充完整后重新提交",
           "reject": "不符合申报条件（任职年限不足）"}


def decision_rows(*, session: Session, waiting: Sequence[Any], actions: Sequence[str],
                  decided_at: dt.datetime, rnd: random.Random) -> list[list[str]]:
    """One office's spreadsheet row per waiting application (an Application or a row of
    its id, submission_id, stage and employer_name; docs/review.md columns): the 单位审核
    stages are decided by the employer, the others by the stage's office."""
    people: dict[int, str] = {i: name for page in in_pages([a.id for a in waiting]) for i, name in session.execute(
        select(Application.id, Applicant.name).join(Applicant, Applicant.id == Application.applicant_id)
        .where(Application.id.in_(page))).tuples()}
    when = decided_at.strftime("%Y-%m-%d %H:%M")
    return [[a.submission_id, people.get(a.id, ""), a.stage or "", RESULTS[action], REASONS[action],
             person_name(rnd), _office(a), when] for a, action in zip(waiting, actions, strict=True)]


def _office(app: Any) -> str:
    stage = app.stage or ""   # a waiting application is on a stage; "" keeps a bad row visible
    if "单位审核" in stage and app.employer_name:
        return app.employer_name
    return stage.removesuffix("审核") or stage


def person_name(rnd: random.Random) -> str:
    return rnd.choice(SURNAMES) + "".join(rnd.choice(GIVEN) for _ in range(rnd.choice((1, 2))))
