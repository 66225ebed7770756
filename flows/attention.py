"""When a run needs a person, and how it says so: one place for every flow.

A run that did its work but left something only a person can settle (failed quality
checks, dead letters or rejected records, tally anomalies, held applications, a year-end
step that needs one of these) ends **Failed**, with the reasons as the state's message,
and emits a Prefect event `zhicheng.<stage>.needs-attention` about the resource
`zhicheng.<stage>.<subject>` (the automations of config/automations.yaml, created by
`zhicheng serve`, notify on it). Its summary stays the run's result, so the command
line prints and exits as cli.md says (exit 1: something needs a human).

In a run without Prefect (the command line with no API) nothing is emitted and the
summary is returned as it is: the command's exit code says it.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zhicheng.runtime import in_prefect_run, run_logger

EVENT = "zhicheng.{stage}.needs-attention"


def _quality(s: dict[str, Any]) -> list[str]:
    if s.get("success", True):
        return []
    suites = sorted({f["suite"] for f in s.get("failed", [])})
    return [f"数据质量检查 {len(s.get('failed', []))} 项期望不符合（{'、'.join(suites)}），见 Data Docs"]


def _push(s: dict[str, Any]) -> list[str]:
    problems = s.get("problems", {})
    out = []
    if problems.get("dead"):
        out.append(f"死信 {problems['dead']} 条：多次发送失败已停止重试，对方系统恢复后运行 zhicheng push --retry-dead")
    if problems.get("rejected"):
        out.append(f"省一体化平台拒收 {problems['rejected']} 条记录，请核对更正")
    return out


def _votes(s: dict[str, Any]) -> list[str]:
    anomalies = s.get("anomalies", [])
    return [f"计票异常 {len(anomalies)} 项（{'、'.join(sorted({a['code'] for a in anomalies}))}），请核对选票"] \
        if anomalies else []


def _publicity(s: dict[str, Any]) -> list[str]:
    out = []
    if s.get("held"):
        out.append(f"{s['held']} 件办件因公示异议暂缓，待处理异议")
    if s.get("problems"):
        out.append(f"{s['problems']} 件办件未能推进，见运行日志")
    return out


# stage -> what in its summary needs a person (pure: summaries in, Chinese reasons out)
RULES: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "quality": _quality, "push": _push, "votes": _votes, "publicity": _publicity,
}


def reasons(stage: str, summary: dict[str, Any] | None) -> list[str]:
    """What in a stage's summary needs a person (none for a stage without a rule)."""
    rule = RULES.get(stage)
    return rule(summary or {}) if rule else []


def conclude(stage: str, subject: Any, summary: dict[str, Any],
             found: list[str] | None = None) -> Any:
    """The flow's return value: `summary`, or in a Prefect run with something for a
    person (`found`, else the stage's rule) a Failed state carrying it, after the event."""
    found = reasons(stage, summary) if found is None else found
    if not found:
        return summary
    message = "需要人工处理：" + "；".join(found)
    run_logger().warning(message)
    if not in_prefect_run():
        return summary
    _emit(stage, str(subject), found, message)
    from prefect.states import Failed
    return Failed(message=message, data=summary)


def day(as_of: str | None) -> str:
    """The Asia/Shanghai date of a run (its `as_of`, else now): the subject of a stage
    that runs many times a day (push, publicity)."""
    from zhicheng.clock import clock_at, local_date
    return local_date(clock_at(as_of).now()).isoformat()


def resource_id(stage: str, subject: str) -> str:
    return f"zhicheng.{stage}.{subject}"


def _emit(stage: str, subject: str, found: list[str], message: str) -> None:
    from prefect.events import emit_event
    emit_event(event=EVENT.format(stage=stage),
               resource={"prefect.resource.id": resource_id(stage, subject),
                         "prefect.resource.name": f"{stage} {subject}", "zhicheng.stage": stage},
               payload={"message": message, "reasons": found})
