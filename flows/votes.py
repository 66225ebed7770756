"""Flow `votes_tally`: count one voting session, record outcomes, write the session
report and a table artifact. Counts only: nothing shows who voted how."""
from __future__ import annotations

from typing import Any

from prefect import flow

from zhicheng.flows import attention
from zhicheng.flows.naming import run_name
from zhicheng.runtime import run_logger, table_artifact
from zhicheng.tasks import votes as tasks
from zhicheng.tasks.votes import OUTCOME_WORDS


@flow(name="votes_tally", flow_run_name=run_name("votes-tally", "session_code"),
      description="专家评审计票：记录表决结果，生成会议报告")
def votes_tally(session_code: str, apply: bool = True, as_of: str | None = None) -> Any:
    """Count one voting session; anomalies end the run Failed for a person.

    Args:
        session_code: 评审会议编号（会议表“会议编号”一列）
        apply: 记录表决结果，办件进入下一环节（否：只计票、出报告，不改变办件）
        as_of: 计票时刻（ISO 8601；空：现在），用于补跑或演示
    """
    logger = run_logger()
    result = tasks.tally_session(session_code, apply, as_of)
    table = [{"申报编号": t["application"], "计票专家": t["present"], "回避": t["recused"],
              "同意": t["yes"], "不同意": t["no"], "弃权": t["abstain"], "未投": t["missing"],
              "通过票数": t["threshold"], "结果": OUTCOME_WORDS[t["outcome"]]}
             for t in result["applications"]]
    key = "votes-" + "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in session_code.lower())
    notes = tasks.calendar_gap_notes(result.pop("calendar_gaps", []))
    table_artifact(key=key, table=table,
                   description="；".join([f"会议 {session_code}：出席 {result['present']}/{result['members_total']}，"
                                         f"异常 {len(result['anomalies'])} 项", *notes]))
    for a in result["anomalies"]:
        logger.warning("计票异常 %s：%s（行 %s）", a["code"], a["message"], a["rows"])
    for note in notes:
        logger.warning(note)
    return attention.conclude("votes", session_code, result)
