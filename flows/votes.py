"""Flow `votes_tally`: count one voting session, record outcomes, write the session
report and a table artifact. Counts only: nothing shows who voted how."""
from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from zhicheng.services.vote_reports import OUTCOME_WORDS
from zhicheng.tasks import votes as tasks


@flow(name="votes_tally", description="专家评审计票：记录表决结果，生成会议报告")
def votes_tally(session_code: str, apply: bool = True, as_of: str | None = None) -> dict[str, Any]:
    logger = get_run_logger()
    result = tasks.tally_session(session_code, apply, as_of)
    table = [{"申报编号": t["application"], "计票专家": t["present"], "回避": t["recused"],
              "同意": t["yes"], "不同意": t["no"], "弃权": t["abstain"], "未投": t["missing"],
              "通过票数": t["threshold"], "结果": OUTCOME_WORDS[t["outcome"]]}
             for t in result["applications"]]
    key = "votes-" + "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in session_code.lower())
    create_table_artifact(key=key, table=table,
                          description=f"会议 {session_code}：出席 {result['present']}/{result['members_total']}，"
                                      f"异常 {len(result['anomalies'])} 项")
    for a in result["anomalies"]:
        logger.warning("anomaly %s: %s (rows %s)", a["code"], a["message"], a["rows"])
    return result
