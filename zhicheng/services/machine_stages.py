"""The stages the machine decides (公示 windows and the expert vote), through the review
service's one `decide`, with actor "system" (brief: cross-feature contracts)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from zhicheng.config import Config
from zhicheng.db.models import Application

SYSTEM_ACTOR = "system"
VOTE_STAGE_KIND = "vote"
PUBLICITY_STAGE_KIND = "publicity"


def decide_machine_stage(session: Session, *, application: Application, action: str, reason: str,
                         office: str, now: dt.datetime, config: Config, expected_kind: str,
                         stage: str | None = None, source_file: str | None = None,
                         source_row: int | None = None) -> str | None:
    """Decide the application's current machine stage; returns why not, or None when done.

    `stage` (when given) must be where the application is: a window over 评前公示 never
    decides an application that has since moved elsewhere.
    """
    from zhicheng.domain.review import IllegalMove
    from zhicheng.services.review import decide
    where = application.stage
    if application.status != "in_review" or (stage is not None and where != stage):
        return f"申报不在{stage or '该'}环节（当前 {where or '-'}，状态 {application.status}）"
    if config.chains.kinds.get(where) != expected_kind:
        return f"环节 {where} 不是{expected_kind}环节"
    try:
        decide(session, application_id=application.id, stage=where, action=action,
               actor=SYSTEM_ACTOR, office=office, reason=reason, decided_at=now, now=now,
               source_file=source_file, source_row=source_row, config=config)
    except IllegalMove as exc:
        return str(exc)
    return None
