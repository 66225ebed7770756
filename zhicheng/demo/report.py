"""What the demo prints: one line per step in the words of a title office (Chinese, in
the glossary's terms), and the year's counts read back from the database (so the
summary is what was stored, not what the script meant to do)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zhicheng.db.models import Application
from zhicheng.issuance.models import Certificate
from zhicheng.publicity.models import Objection, PublicityWindow
from zhicheng.review.models import Decision
from zhicheng.votes.models import VotingSession


def _listing(counts: dict[str, int]) -> str:
    return "、".join(f"{what} {n}" for what, n in sorted(counts.items()) if n) or "无"


def intake_line(s: dict[str, Any]) -> str:
    line = (f"从大厅收件 {s['received']} 件：新件 {s.get('new', 0)} 件，重新提交 {s.get('resubmission', 0)} 件，"
            f"不合格拒收 {s.get('invalid', 0)} 件；材料 {s['files']} 个（{s['bytes'] / 1e6:.1f} MB）")
    return line + ("；大厅无应答，已暂停" if s.get("paused") else "")


def education_line(s: dict[str, Any]) -> str:
    line = (f"学信核验 {s['checked']} 件（新取回 {s['fetched']} 份，复用 {s['reused']} 份）：{_listing(s['outcomes'])}")
    return line + ("；学信不可用，已暂停" if s.get("paused") else "")


def validation_line(s: dict[str, Any]) -> str:
    return (f"审核 {s['applications']} 件（材料 {s['files']} 个，{s['bytes'] / 1e6:.1f} MB）："
            f"通过进入评审流程 {s['passed']} 件，退回申报人 {s['returned']} 件")


def push_line(s: dict[str, Any]) -> str:
    """The push flow's nested summary: province batches, hall messages, open problems."""
    province, hall, problems = s["province"], s["hall"], s["problems"]
    batches = len(province["batches"])
    applied = f"（已入库：{_listing(province['counts'])}）" if province["counts"] else ""
    to_province = (f"分 {batches} 批推送 {province['sent']} 条{applied}，拒收 {len(province['rejected'])} 条"
                   if batches else "无可推送")
    line = (f"省一体化平台：{to_province}；大厅：发送消息 {hall['sent']} 条，拒收 {len(hall['rejected'])} 条；"
            f"未处理死信 {problems['dead']} 条")
    return line + ("；有系统无应答，已暂停" if province["paused"] or hall["paused"] else "")


def close_line(s: dict[str, Any]) -> str:
    return (f"关闭公示 {len(s['closed_windows'])} 个：进入下一环节 {s['passed']} 件，撤下 {s['removed']} 件，"
            f"暂缓 {s['held']} 件" + (f"，问题 {s['problems']} 个" if s["problems"] else ""))


def counts(*, session: Session) -> dict[str, Any]:
    """What the database holds at the end of the demo."""
    def count(model) -> int:
        return session.scalar(select(func.count()).select_from(model)) or 0
    return {"applications": {status: n for status, n in session.execute(
                select(Application.status, func.count()).group_by(Application.status))},
            "decisions": {action: n for action, n in session.execute(
                select(Decision.action, func.count()).group_by(Decision.action))},
            "publicity_windows": count(PublicityWindow), "objections": count(Objection),
            "voting_sessions": count(VotingSession), "certificates": count(Certificate)}


def count_rows(c: dict[str, Any]) -> list[list[str]]:
    """The counts as the rows of the summary table (statuses and actions as stored)."""
    rows = [["办件", str(sum(c["applications"].values()))]]
    rows += [[f"  {status}", str(n)] for status, n in sorted(c["applications"].items())]
    rows += [["审核记录（各环节）", str(sum(c["decisions"].values()))]]
    rows += [[f"  {action}", str(n)] for action, n in sorted(c["decisions"].items())]
    rows += [[label, str(c[key])] for key, label in (
        ("publicity_windows", "公示"), ("objections", "异议"),
        ("voting_sessions", "评审会议"), ("certificates", "电子证书"))]
    return rows
