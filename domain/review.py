"""The state machine of an application over its review chain (rules.md: Review chains).

Pure: the caller passes where the application stands (`Position`), the stage kinds of
config/chains.yaml and, for time limits, the working-day calendar. A move the chain
does not allow raises `IllegalMove` with the reason in Chinese and English; nothing
here writes anything, so a refused move leaves no trace.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace

from zhicheng.domain.application_status import ApplicationStatus
from zhicheng.domain.shanghai_time import SHANGHAI, local_date

ACTIONS = ("approve", "return", "reject", "remove")
ACTION_NAMES = {"approve": "通过", "return": "退回修改", "reject": "不通过", "remove": "取消（异议成立）"}
# Which kinds of stage allow which action: staff and machine stages alike.
ALLOWED = {
    "approve": ("review", "publicity", "vote", "filing", "issue", "register"),
    "return": ("review",),
    "reject": ("review", "vote"),
    "remove": ("publicity",),
}
# Once an application reaches one of these it has passed review: status approved.
READY_KINDS = ("filing", "issue", "register")
LIVE = (ApplicationStatus.IN_REVIEW, ApplicationStatus.APPROVED)
ENDED: dict[str, tuple[str, str]] = {
    ApplicationStatus.REJECTED: ("已不通过", "it was rejected"),
    ApplicationStatus.WITHDRAWN: ("已撤回", "it was withdrawn"),
    ApplicationStatus.ISSUED: ("已发证", "its certificate was issued"),
    ApplicationStatus.REGISTERED: ("已登记", "it was registered"),
}
# Statuses from which a (re)validated application may enter its chain.
ENTERABLE = (ApplicationStatus.RECEIVED, ApplicationStatus.VALIDATED, ApplicationStatus.INVALID,
             ApplicationStatus.RETURNED, ApplicationStatus.IN_REVIEW)


class IllegalMove(Exception):
    """A decision or entry the chain does not allow; `str()` gives both languages."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh}（{en}）")
        self.zh, self.en = zh, en


@dataclass(frozen=True)
class Position:
    """Where an application stands: its chain, stage, status, and the stages already
    decided in its current revision (so nothing is decided twice)."""

    status: str
    chain: tuple[str, ...]
    stage_index: int | None
    revision: int
    decided: frozenset[int] = frozenset()

    @property
    def stage(self) -> str | None:
        if self.stage_index is None or not 0 <= self.stage_index < len(self.chain):
            return None
        return self.chain[self.stage_index]


@dataclass(frozen=True)
class Move:
    """The result of one legal decision."""

    action: str
    stage_index: int          # the stage decided (left, with outcome = action)
    stage: str
    status: str               # the application's status afterwards
    next_index: int | None    # the stage entered, None when it stays or ends
    next_stage: str | None
    returns_to_applicant: bool
    ends: bool                # rejected or removed: nothing follows


@dataclass(frozen=True)
class Entry:
    """Where an application enters (or re-enters) its chain after validation."""

    chain: tuple[str, ...]
    stage_index: int
    stage: str
    resubmission: bool
    already_in: bool = False  # nothing to do: it is in its chain already


def status_at(chain: tuple[str, ...], index: int, kinds: Mapping[str, str]) -> str:
    return ApplicationStatus.APPROVED if kinds.get(chain[index]) in READY_KINDS else ApplicationStatus.IN_REVIEW


def decide(pos: Position, *, stage: str, action: str, kinds: Mapping[str, str],
           reason: str | None) -> Move:
    """The move `action` at `stage` makes from `pos`, or IllegalMove saying why not."""
    if action not in ACTIONS:
        raise IllegalMove(f"未知的处理结果“{action}”", f"unknown action {action!r}; one of {', '.join(ACTIONS)}")
    if action != "approve" and not (reason or "").strip():
        # the applicant is told why (退回修改 by SMS), and the audit trail says why
        raise IllegalMove(f"“{ACTION_NAMES[action]}”须填写理由", f"{action} needs a reason")
    _check_live(pos)
    here = pos.stage
    if stage not in pos.chain:
        raise IllegalMove(f"环节“{stage}”不在该申报的审核流程中（当前环节：{here}）",
                          f"stage {stage!r} is not on this application's chain (it is at {here!r})")
    if stage == here and pos.stage_index in pos.decided:
        raise already_decided(stage, pos.revision)
    if stage != here:
        done = any(pos.chain[i] == stage for i in pos.decided)
        zh = "已处理过" if done else "尚未到达或已经过"
        raise IllegalMove(f"申报当前在“{here}”环节，“{stage}”环节{zh}，不能在该环节处理",
                          f"the application is at {here!r}, not at {stage!r}"
                          + (" (already decided there)" if done else ""))
    kind = kinds.get(stage)
    if kind not in ALLOWED[action]:
        raise IllegalMove(f"“{stage}”环节（{kind}）不能作出“{ACTION_NAMES[action]}”决定",
                          f"a {kind} stage cannot {action}")
    return _move(pos, action, kinds)


def already_decided(stage: str, revision: int) -> IllegalMove:
    """The refusal of a second decision at a stage (also when the database's unique key,
    not this check, is what caught it: two deciders that read before either wrote)."""
    return IllegalMove(f"“{stage}”环节已作出决定，不能重复处理",
                       f"stage {stage!r} was already decided in revision {revision}")


def _check_live(pos: Position) -> None:
    if pos.status in ENDED:
        zh, en = ENDED[pos.status]
        raise IllegalMove(f"申报{zh}，不能再处理", f"the application is {pos.status}: {en}")
    if pos.status == ApplicationStatus.RETURNED:
        raise IllegalMove("申报已退回申请人修改，须待重新提交并通过校验后才能处理",
                          "the application was returned; it must be resubmitted and validated first")
    if pos.status not in LIVE or pos.stage is None:
        raise IllegalMove(f"申报不在审核流程中（状态：{pos.status}）",
                          f"the application is not in review (status {pos.status})")


def _move(pos: Position, action: str, kinds: Mapping[str, str]) -> Move:
    i = pos.stage_index
    assert i is not None
    if action == "approve":
        nxt = i + 1 if i + 1 < len(pos.chain) else None
        status = status_at(pos.chain, nxt, kinds) if nxt is not None else pos.status
        return Move(action, i, pos.chain[i], status, nxt, pos.chain[nxt] if nxt is not None else None,
                    returns_to_applicant=False, ends=False)
    if action == "return":
        return Move(action, i, pos.chain[i], ApplicationStatus.RETURNED, None, None,
                    returns_to_applicant=True, ends=False)
    return Move(action, i, pos.chain[i], ApplicationStatus.REJECTED, None, None,
                returns_to_applicant=False, ends=True)


def after(pos: Position, move: Move) -> Position:
    """The position once `move` is made (to check a sequence of decisions in order)."""
    decided = pos.decided | {move.stage_index}
    if move.next_index is not None:
        return replace(pos, status=move.status, stage_index=move.next_index, decided=decided)
    return replace(pos, status=move.status, decided=decided)


def enter(*, status: str, chain: tuple[str, ...], current_index: int | None, revision: int,
          last_return: tuple[int, int] | None, kinds: Mapping[str, str]) -> Entry:
    """Where a validated application enters its chain.

    `chain` is the application's chain (the stored one for a resubmission);
    `last_return` is (revision, stage_index) of the latest return decision, if any.
    A fresh application enters the stage after its submission stage; a resubmission
    (a higher revision than the one returned) re-enters at the stage that returned it.
    """
    if status in ENDED:
        zh, en = ENDED[status]
        raise IllegalMove(f"申报{zh}，不能再进入审核流程", f"the application is {status}: {en}")
    if status in LIVE and current_index is not None:
        return Entry(chain, current_index, chain[current_index], resubmission=False, already_in=True)
    if status not in ENTERABLE:
        raise IllegalMove(f"状态为“{status}”的申报不能进入审核流程",
                          f"an application with status {status!r} cannot enter review")
    if not chain or kinds.get(chain[0]) != "submission" or len(chain) < 2:
        raise IllegalMove("审核流程配置有误：须以申报环节开始", "the chain must start with a submission stage")
    if last_return is None:
        return Entry(chain, 1, chain[1], resubmission=False)
    returned_rev, index = last_return
    if returned_rev >= revision:
        raise IllegalMove("申报已退回，尚未收到重新提交的新版本",
                          f"revision {revision} was returned; waiting for a resubmission")
    if not 0 < index < len(chain):
        raise IllegalMove("退回环节不在该申报的审核流程中", f"the returning stage index {index} is off the chain")
    return Entry(chain, index, chain[index], resubmission=True)


def due_at(entered: dt.datetime, days: int | None, calendar) -> dt.datetime | None:
    """When a stage entered at `entered` (local time) is overdue: 24:00 of its `days`-th working day,
    counted from the first working day after the day it was entered. None: no limit."""
    if not days:
        return None
    last = calendar.add_working_days(local_date(entered) + dt.timedelta(days=1), days)
    return dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tzinfo=SHANGHAI)
