"""`zhicheng review import FILE`: decisions the offices send in spreadsheets (docs/review.md).

The whole file is checked before anything is applied: every row is parsed, its
application found, and the rows are played in file order through the state machine
(domain/review.py) from where each application stands, so a file can carry several
stages of one application but can never skip one or leave the chain. Any bad row
refuses the file, every bad row listed; otherwise each row becomes one decision,
audited with the file's name and the row number.
"""
from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhicheng.clock import TypedTimeError, local, typed_time
from zhicheng.config import Config
from zhicheng.db.batches import in_pages
from zhicheng.db.models import Applicant, Application
from zhicheng.domain import review as rules
from zhicheng.domain.review import IllegalMove
from zhicheng.files.tables import FileRefused, Row, read_table
from zhicheng.review import service as review
from zhicheng.review.models import Decision

COLUMNS = ("申报编号", "环节", "处理结果", "经办人", "处理单位", "处理时间")
OPTIONAL = ("姓名", "意见")
RESULTS = {"通过": "approve", "同意": "approve", "退回": "return", "退回修改": "return",
           "不通过": "reject", "不同意": "reject"}
_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?[eE][+-]?\d+$")
_NUMBER = re.compile(r"^\d+(\.\d+)?$")
EXCEL_DIGITS = 15  # significant digits Excel keeps of a number


@dataclass(frozen=True)
class Planned:
    row: int
    application_id: int
    stage: str
    action: str
    actor: str
    office: str
    reason: str | None
    decided_at: dt.datetime
    already_applied: bool = False


def import_decisions(*, session: Session, path: Path | str, config: Config,
                     now: dt.datetime) -> dict[str, Any]:
    """Check the whole file, then apply every row as one decision; FileRefused otherwise."""
    rows = read_table(path, required=COLUMNS, optional=OPTIONAL, limits=config.policy.imports)
    if not rows:
        raise FileRefused(path, [(None, "no decisions in the file (only the header)")])
    now = local(now)
    # the applications' columns, not objects: the objects are loaded once, locked, to apply
    apps, restored, id_problems = resolve_ids(session=session, cells=[r.get("申报编号") for r in rows])
    names = _applicant_names(session=session, apps=apps.values())
    checker = _Checker(session=session, config=config, apps=apps.values())
    plans, problems = [], []
    for r in rows:
        errors, plan = _parse(r, apps, id_problems, names, config, now)
        if plan is not None:
            errors, plan = checker.play(plan)
        problems += [(r.number, m) for m in errors]
        if plan is not None and not errors:
            plans.append(plan)
    if problems:
        raise FileRefused(path, problems)
    source = Path(path).name
    applied = [p for p in plans if not p.already_applied]
    _apply(session=session, plans=applied, source=source, config=config, now=now)
    return {"file": source, "rows": len(rows), "applied": len(applied),
            "already_applied": len(plans) - len(applied),
            "by_result": {a: sum(p.action == a for p in applied) for a in ("approve", "return", "reject")},
            "restored_ids": [{"row": r.number, "cell": r.get("申报编号"), "submission_id": restored[r.get("申报编号")]}
                             for r in rows if r.get("申报编号") in restored]}


def _apply(*, session: Session, plans: list[Planned], source: str, config: Config, now: dt.datetime) -> None:
    """The checked rows as decisions, in one batch under the applications' row locks.
    Where an application moved since the check (another decider in between): IllegalMove,
    and the caller rolls back, so nothing of the file is applied."""
    locked = review.lock_applications(session=session, ids={p.application_id for p in plans})
    requests = [review.Request(locked[p.application_id], p.stage, p.action, p.actor, p.office,
                               p.reason, p.decided_at, source, p.row) for p in plans]
    try:
        review.decide_many(session=session, requests=requests, now=now, config=config, strict=True)
        session.flush()
    except IntegrityError as exc:   # SQLite takes no row locks: a concurrent decider got there first
        if not review.is_decision_key(exc):
            raise
        raise IllegalMove("其中的决定已由另一次导入同时记录；请重新导入该文件",
                          "a concurrent import recorded some of these decisions; import the file again") from None


# -- application IDs as Excel leaves them -------------------------------------------------

# What the check reads of an application (a row, not an ORM object: _apply loads
# the objects once, locked)
_CHECKED = (Application.id, Application.submission_id, Application.applicant_id, Application.status,
            Application.chain, Application.stage_index, Application.current_revision)


def resolve_ids(*, session: Session,
                cells: Iterable[str]) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """Find the application of each 申报编号 cell: (found, restored, problems) by cell;
    each found one a row of the columns the check reads (_CHECKED).

    An all-digit ID that Excel turned into a number loses its leading zeros (and gains
    ".0" in some exports): it is restored when exactly one stored ID matches, else
    refused. Scientific notation has lost digits for good and is always refused."""
    cells = {c for c in cells if c}
    exact = {a.submission_id: a for page in in_pages(sorted(cells)) for a in session.execute(
        select(*_CHECKED).where(Application.submission_id.in_(page)))}
    found, restored, problems = {}, {}, {}
    for cell in cells:
        if cell in exact:
            found[cell] = exact[cell]
        elif _SCIENTIFIC.match(cell):
            problems[cell] = (f"申报编号 {cell} 被 Excel 写成了科学计数法，位数已丢失；"
                              "请把该列设为“文本”格式后重新填写")
        elif _NUMBER.match(cell) and (match := _unpadded(session=session, cell=cell)):
            if isinstance(match, str):
                problems[cell] = match
            else:
                found[cell], restored[cell] = match, match.submission_id
        else:
            hint = ("；超过 15 位的数字在 Excel 中会丢失末位，请把该列设为“文本”格式"
                    if cell.isdigit() and len(cell) > 15 else "")
            problems[cell] = f"申报编号 {cell} 不存在{hint}"
    return found, restored, problems


def _unpadded(*, session: Session, cell: str) -> Any:
    """The one application (a row of _CHECKED) whose ID this number is, without its
    leading zeros; why not when several are; None when none is."""
    digits = cell.split(".")[0] if re.fullmatch(r"\d+\.0+", cell) else cell
    if not digits.isdigit():
        return None
    bare = digits.lstrip("0")
    candidates = [a for a in session.execute(select(*_CHECKED).where(
        Application.submission_id.like(f"%{bare}"))) if a.submission_id.isdigit()
        and a.submission_id.lstrip("0") == bare]
    if len(candidates) > 1:
        ids = "、".join(sorted(a.submission_id for a in candidates))
        return f"申报编号 {cell} 丢失了前导零，可能是 {ids}，无法确定；请把该列设为“文本”格式后重新填写"
    return candidates[0] if candidates else None


def _applicant_names(*, session: Session, apps: Iterable[Any]) -> dict[int, str]:
    ids = sorted({a.applicant_id for a in apps if a.applicant_id})
    people = {i: name for page in in_pages(ids) for i, name in session.execute(
        select(Applicant.id, Applicant.name).where(Applicant.id.in_(page))).tuples()}
    return {a.id: people.get(a.applicant_id, "") if a.applicant_id is not None else "" for a in apps}


# -- one row ------------------------------------------------------------------------------

def _parse(r: Row, apps: dict[str, Any], id_problems: dict[str, str], names: dict[int, str],
           config: Config, now: dt.datetime) -> tuple[list[str], Planned | None]:
    errors = [f"{h} 为空" for h in COLUMNS if not r.get(h)]
    cell = r.get("申报编号")
    app = apps.get(cell)
    if cell and "申报编号" in r.numbers and len(cell.split(".")[0]) > EXCEL_DIGITS:
        # Excel keeps 15 significant digits of a number: the rest became zeros, so even
        # an ID that matches may be another application's
        errors.append(f"申报编号 {cell} 在 Excel 中是数字，超过 {EXCEL_DIGITS} 位的部分可能已变成 0，"
                      "无法确定是哪一件申报；请把该列设为“文本”格式后重新填写")
        app = None
    elif cell and app is None:
        errors.append(id_problems.get(cell, f"申报编号 {cell} 不存在"))
    result = r.get("处理结果")
    action = RESULTS.get(result)
    if result and action is None:
        errors.append(f"处理结果“{result}”无法识别：应为 通过、退回 或 不通过")
    stage = r.get("环节")
    if stage:
        errors += _stage_problems(stage, config)
    decided_at = _when(r.get("处理时间"), now, errors)
    if app is not None and r.get("姓名") and names.get(app.id) and r.get("姓名") != names[app.id]:
        errors.append(f"姓名“{r.get('姓名')}”与申报编号 {app.submission_id} 的申报人不符")
    if errors or app is None or action is None or decided_at is None:
        return errors, None
    return errors, Planned(r.number, app.id, stage, action, r.get("经办人"), r.get("处理单位"),
                           r.get("意见") or None, decided_at)


def _stage_problems(stage: str, config: Config) -> list[str]:
    kind = config.chains.kinds.get(stage)
    if kind is None:
        return [f"环节“{stage}”不是已知的审核环节（名称须与流程中的环节完全一致）"]
    if kind != "review":
        return [f"环节“{stage}”不是审核环节，由系统按{_MACHINE.get(kind, '流程')}处理，不能导入决定"]
    return []


_MACHINE = {"submission": "申报提交", "publicity": "公示结果", "vote": "专家表决结果",
            "filing": "备案", "issue": "发证", "register": "登记"}


def _when(text: str, now: dt.datetime, errors: list[str]) -> dt.datetime | None:
    if not text:
        return None
    try:
        parsed = typed_time(text, what="处理时间")
    except TypedTimeError as exc:
        errors.append(str(exc))
        return None
    if parsed > now:
        errors.append(f"处理时间 {text} 晚于导入时间 {now:%Y-%m-%d %H:%M}")
        return None
    return parsed


# -- the rows in order through the state machine ---------------------------------------------

class _Checker:
    """Plays the file's rows, per application, from where each stands in the database
    (read for the whole file in a few queries: positions and past decisions)."""

    def __init__(self, *, session: Session, config: Config, apps: Iterable[Any]) -> None:
        self.config = config
        apps = list(apps)
        # one read of their decisions serves both: where each stands, and what is recorded
        read = review.decided_of(session=session, ids=sorted(a.id for a in apps), columns=(
            Decision.stage, Decision.action, Decision.actor, Decision.decided_at))
        self.positions: dict[int, rules.Position] = review.positions_from(apps, read)
        self.decided: dict[int, list[tuple[str, str, str, int, dt.datetime]]] = defaultdict(list)
        for app_id, decisions in read.items():
            self.decided[app_id] = [(stage, action, actor, revision, local(at))
                                    for revision, _, stage, action, actor, at in decisions]
        self.latest: dict[int, dt.datetime | None] = {
            a: max((d[4] for d in self.decided.get(a, ())), default=None) for a in self.positions}

    def play(self, plan: Planned) -> tuple[list[str], Planned]:
        """Why the row cannot be applied (nothing when it can), and the row's plan."""
        app_id = plan.application_id
        stored = self._stored(plan)
        if stored == self.positions[app_id].revision:  # the same decision from an earlier import
            return [], replace(plan, already_applied=True)
        if stored is not None:
            # recorded for an earlier revision, before the applicant resubmitted: playing it
            # again would return (or decide) the resubmission on the old round's word
            return [f"该决定（{plan.stage}，{plan.actor}，{plan.decided_at:%Y-%m-%d %H:%M}）已在申报第 {stored} 版"
                    f"记录过，申报人此后已重新提交；如是对新版本的新决定，请填写新的处理时间"], plan
        try:
            move = rules.decide(self.positions[app_id], stage=plan.stage, action=plan.action,
                                kinds=self.config.chains.kinds, reason=plan.reason)
        except IllegalMove as exc:
            return [str(exc)], plan
        latest = self.latest[app_id]
        if latest is not None and plan.decided_at < latest:
            return [f"处理时间 {plan.decided_at:%Y-%m-%d %H:%M} 早于该申报上一个决定的时间 "
                    f"{latest:%Y-%m-%d %H:%M}"], plan
        self.positions[app_id] = rules.after(self.positions[app_id], move)
        self.latest[app_id] = plan.decided_at
        return [], plan

    def _stored(self, plan: Planned) -> int | None:
        """The revision in which this very decision (stage, result, 经办人, 处理时间) is
        already recorded, the latest one; None when it is not."""
        return max((rev for stage, action, actor, rev, at in self.decided.get(plan.application_id, ())
                    if (stage, action, actor, at) == (plan.stage, plan.action, plan.actor[:64], plan.decided_at)),
                   default=None)
