"""The session report for the committee (XLSX and PDF): tallies only, never who voted how."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhicheng.config import Config
from zhicheng.db.models import Applicant, Application
from zhicheng.files.cjk_documents import write_pdf, write_xlsx

OUTCOME_WORDS = {"pass": "通过", "fail": "未通过", "withdrawn": "已撤回（取消申请）", None: "暂不确定"}
REPORT_COLUMNS = ("申报编号", "姓名", "工作单位", "申报资格", "专业", "计票专家", "回避", "同意",
                  "不同意", "弃权", "未投", "通过票数", "结果")
ANOMALY_COLUMNS = ("问题", "说明", "申报编号", "文件", "行")


def tally_rows(result: dict[str, Any]) -> list[list[Any]]:
    """One row per application: the counts of the tally (the table artifact uses these too)."""
    return [[t["application"], t["present"], t["recused"], t["yes"], t["no"], t["abstain"],
             t["missing"], t["threshold"], OUTCOME_WORDS[t["outcome"]]] for t in result["applications"]]


def write_session_report(*, session: Session, result: dict[str, Any], config: Config,
                         out_dir: Path) -> dict[str, str]:
    people = _people(session=session, keys=[t["application"] for t in result["applications"]])
    rows = []
    for t in result["applications"]:
        name, employer, title, specialty = people.get(t["application"], ("", "", "", ""))
        rows.append([t["application"], name, employer, title, specialty, t["present"], t["recused"],
                     t["yes"], t["no"], t["abstain"], t["missing"], t["threshold"],
                     OUTCOME_WORDS[t["outcome"]]])
    anomalies = [[a["code"], a["message"], a["application"] or "", a["source"] or "",
                  ",".join(map(str, a["rows"]))] for a in result["anomalies"]]
    committee = config.committees.get(result["committee"])
    title = f"{committee.name if committee else result['committee']}评审会议表决结果"
    lines = [f"会议编号：{result['session']}　召开日期：{result['held_on']}",
             f"评委会委员 {result['members_total']} 人，出席 {result['present']} 人，法定人数 "
             f"{result['quorum_needed']} 人，{'符合' if result['quorum'] else '不符合'}出席要求",
             "通过票数：同意票达到出席且未回避专家人数的2/3（无记名投票，仅列票数）"]
    footer = [f"异常 {len(anomalies)} 项：" + "；".join(f"{a[1]}（行 {a[4] or '-'}）" for a in anomalies)] \
        if anomalies else []
    stem = f"vote-session-{result['session']}"
    xlsx = write_xlsx(out_dir / f"{stem}.xlsx", title=title, header_lines=lines, columns=REPORT_COLUMNS,
                      rows=rows, sheet="表决结果", extra={"异常": (ANOMALY_COLUMNS, anomalies)})
    pdf = write_pdf(out_dir / f"{stem}.pdf", title=title, header_lines=lines, columns=REPORT_COLUMNS,
                    rows=rows, widths=[1.3, 0.9, 2.2, 1, 1.1, 0.7, 0.5, 0.5, 0.6, 0.5, 0.5, 0.7, 0.8],
                    footer_lines=footer)
    return {"xlsx": str(xlsx), "pdf": str(pdf)}


def _people(*, session: Session, keys: list[str]) -> dict[str, tuple]:
    if not keys:
        return {}
    q = (select(Application.submission_id, Applicant.name, Application.employer_name,
                Application.qualification_name, Application.specialty)
         .outerjoin(Applicant, Applicant.id == Application.applicant_id)
         .where(Application.submission_id.in_(keys)))
    return {k: (n or "", e or "", q_ or "", s or "") for k, n, e, q_, s in session.execute(q).all()}
