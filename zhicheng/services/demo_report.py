"""What the demo prints: one line per step in the words of a title office, and the
year's counts read back from the database (so the summary is what was stored, not
what the script meant to do)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zhicheng.db.models import (Application, Certificate, Decision, Objection, PublicityWindow,
                                VotingSession)


def n(count: int, noun: str) -> str:
    """`1 application`, `2 applications` (nouns of this module only: plural with -s)."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _listing(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {what}" for what, n in sorted(counts.items()) if n) or "none"


def intake_line(s: dict[str, Any]) -> str:
    line = (f"{n(s['received'], 'submission')} pulled from the hall: {s.get('new', 0)} new, "
            f"{s.get('resubmission', 0)} resubmissions, {s.get('invalid', 0)} refused as invalid; "
            f"{s['files']} files ({s['bytes'] / 1e6:.1f} MB)")
    return line + ("; paused: the hall stopped answering" if s.get("paused") else "")


def education_line(s: dict[str, Any]) -> str:
    line = (f"{n(s['checked'], 'application')} checked with 学信 ({s['fetched']} answers fetched, "
            f"{s['reused']} reused): {_listing(s['outcomes'])}")
    return line + ("; paused: 学信 unavailable" if s.get("paused") else "")


def validation_line(s: dict[str, Any]) -> str:
    return (f"{n(s['applications'], 'application')} checked ({s['files']} files, {s['bytes'] / 1e6:.1f} MB): "
            f"{s['passed']} passed into review, {s['returned']} returned to the applicant")


def push_line(s: dict[str, Any]) -> str:
    """The push flow's nested summary: province batches, hall messages, open problems."""
    province, hall, problems = s["province"], s["hall"], s["problems"]
    batches = len(province["batches"])
    applied = f" (applied: {_listing(province['counts'])})" if province["counts"] else ""
    to_province = (f"{n(province['sent'], 'record')} sent in {batches} batch{'es' * (batches != 1)}{applied}, "
                   f"{len(province['rejected'])} rejected" if batches else "nothing to send")
    line = (f"省一体化平台: {to_province}; hall: {n(hall['sent'], 'message')} sent, "
            f"{len(hall['rejected'])} rejected; dead letters open: {problems['dead']}")
    return line + ("; paused: a system stopped answering" if province["paused"] or hall["paused"] else "")


def close_line(s: dict[str, Any]) -> str:
    return (f"{n(len(s['closed_windows']), 'publicity window')} closed: {s['passed']} moved on, "
            f"{s['removed']} removed, {s['held']} held" + (f", {s['problems']} problems" if s["problems"] else ""))


def counts(session: Session) -> dict[str, Any]:
    """What the database holds at the end of the demo."""
    def count(model) -> int:
        return session.scalar(select(func.count()).select_from(model))
    return {"applications": dict(session.execute(select(Application.status, func.count())
                                                 .group_by(Application.status)).all()),
            "decisions": dict(session.execute(select(Decision.action, func.count())
                                              .group_by(Decision.action)).all()),
            "publicity_windows": count(PublicityWindow), "objections": count(Objection),
            "voting_sessions": count(VotingSession), "certificates": count(Certificate)}


def count_rows(c: dict[str, Any]) -> list[list[str]]:
    """The counts as the rows of the summary table."""
    rows = [["applications", str(sum(c["applications"].values()))]]
    rows += [[f"  {status}", str(n)] for status, n in sorted(c["applications"].items())]
    rows += [["decisions (all stages)", str(sum(c["decisions"].values()))]]
    rows += [[f"  {action}", str(n)] for action, n in sorted(c["decisions"].items())]
    rows += [[label, str(c[key])] for key, label in (
        ("publicity_windows", "publicity windows"), ("objections", "objections"),
        ("voting_sessions", "expert voting sessions"), ("certificates", "certificates issued"))]
    return rows
