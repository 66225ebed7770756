"""The stages the machine decides (公示 windows and the expert vote), through the review
service's state machine (`decide_many`, the batch form of its one `decide`), with actor
"system" (brief: cross-feature contracts)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from zhicheng.config import Config
from zhicheng.db.models import Application
from zhicheng.domain.application_status import ApplicationStatus
from zhicheng.domain.review import IllegalMove
from zhicheng.review import service as review

SYSTEM_ACTOR = "system"
VOTE_STAGE_KIND = "vote"
PUBLICITY_STAGE_KIND = "publicity"


@dataclass(frozen=True)
class MachineDecision:
    """One decision of a window or vote: `stage`, when given, must be where the
    application is (a window over 评前公示 never decides an application that has since
    moved elsewhere)."""

    application_id: int
    action: str
    reason: str
    office: str
    stage: str | None = None


def decide_machine_stages(*, session: Session, wanted: Sequence[MachineDecision], now: dt.datetime,
                          config: Config, expected_kind: str) -> list[str | None]:
    """Decide each application's current machine stage, in one batch: its applications
    locked in one query, moved by review.decide_many. Per decision, why not (written
    nothing), or None when done. The caller flushes."""
    locked = review.lock_applications(session=session, ids={w.application_id for w in wanted})
    problems = [_not_here(locked[w.application_id], w.stage, expected_kind, config) for w in wanted]
    go = [(i, w) for i, w in enumerate(wanted) if problems[i] is None]
    made = review.decide_many(session=session, requests=[
        review.Request(locked[w.application_id], locked[w.application_id].stage or "", w.action, SYSTEM_ACTOR,
                       w.office, w.reason, now) for _, w in go], now=now, config=config)
    for (i, _), got in zip(go, made, strict=True):
        if isinstance(got, IllegalMove):
            problems[i] = str(got)
    return problems


def _not_here(application: Application, stage: str | None, expected_kind: str, config: Config) -> str | None:
    where = application.stage
    if application.status != ApplicationStatus.IN_REVIEW or (stage is not None and where != stage):
        return f"申报不在{stage or '该'}环节（当前 {where or '-'}，状态 {application.status}）"
    if where is None or config.chains.kinds.get(where) != expected_kind:
        return f"环节 {where} 不是{expected_kind}环节"
    return None
