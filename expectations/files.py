"""The file suites (issue 24): the staff's files checked as DataFrames before import.

Staff bring five kinds of file (docs/votes.md, docs/review.md, docs/publicity.md):
ballots, rosters, session workbooks (sheets 会议, 议程, 出席, 回避), review decisions and
objections. Each sheet has a suite here: named checks over the sheet's DataFrame (rules
in expectations.file_rules), which expectations.file_project keeps in the workspace's
GX project next to the database suites and runs when the file is imported
(zhicheng.quality.file_checks), so a data team sees a bad file in Data Docs as well as the
importer's refusal. The importer stays the authority on whether a file is taken.

A failing row shows its row number, the columns its check names (`show`) and the
problem in Chinese. Names are masked (李*艳) and free text, the vote included (ballots
are secret), is never shown.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zhicheng.config import Config
from zhicheng.domain.privacy import mask_name
from zhicheng.domain.publicity import DECISION_WORDS, UPHELD
from zhicheng.domain.tally import VOTE_VALUES
from zhicheng.expectations.file_rules import PROBLEM, ROW

# Columns whose values are people's names: masked wherever a row is shown.
NAME_COLUMNS = frozenset({"姓名", "投票人", "经办人"})
# Columns never shown: the vote (secret) and what people typed (may hold anything).
HIDDEN_COLUMNS = frozenset({"表决意见", "异议内容", "处理理由", "意见", "原因"})

# What the importers accept, in the words staff write (the importers' own lists)
ATTENDANCE_WORDS = ("是", "出席", "Y", "y", "yes", "1", "否", "缺席", "N", "n", "no", "0")
ROSTER_STATES = ("在任", "停用", "离任", "是", "否")
REVIEW_RESULTS = ("通过", "同意", "退回", "退回修改", "不通过", "不同意")
SCIENTIFIC = r"\d+(?:\.\d+)?[eE][+-]?\d+"


@dataclass(frozen=True)
class FileCheck:
    name: str                 # English identifier, unique within its suite
    description: str          # what must hold, in Chinese, for the data team
    rule: str                 # a name in expectations.file_rules.RULES
    rule_args: dict[str, Any] = field(default_factory=dict)
    show: tuple[str, ...] = ()  # the columns a failing row shows, besides 行号 and 问题


@dataclass(frozen=True)
class FileSuite:
    name: str                 # the GX suite, validation definition and Checkpoint name
    kind: str                 # the file kind (FILE_KINDS)
    sheet: str | None         # the sheet of a workbook it reads, None for the first
    checks: tuple[FileCheck, ...]


def _required(columns: tuple[str, ...], show: tuple[str, ...]) -> FileCheck:
    return FileCheck("required_filled", f"{'、'.join(columns)} 均已填写", "required",
                     {"columns": list(columns)}, show)


def ballots(config: Config) -> tuple[FileSuite, ...]:
    key = ("会议编号", "申报编号", "专家编号")
    return (FileSuite("file_ballots", "ballots", None, (
        _required(key + ("表决意见",), key),
        FileCheck("vote_in_domain", "表决意见是 同意、不同意、弃权、空白 之一", "one_of",
                  {"column": "表决意见", "values": list(VOTE_VALUES),
                   "message": "表决意见不是 同意、不同意、弃权、空白 之一"}, key),
        FileCheck("one_ballot_per_expert_and_application",
                  "同一会议、申报和专家只有一张选票（重复的选票导入后由计票列为异常，待人工作废）",
                  "unique", {"columns": list(key),
                             "message": "与第 {first} 行是同一会议、申报和专家的选票"}, key),
        FileCheck("application_id_is_text", "申报编号不是 Excel 的科学计数法数字（如 3.2E+17）",
                  "not_matching", {"column": "申报编号", "pattern": SCIENTIFIC,
                                   "message": "申报编号 {value} 是 Excel 的科学计数法：请把该列设为“文本”"},
                  key),
    )),)


def roster(config: Config) -> tuple[FileSuite, ...]:
    show = ("评委会编号", "专家编号", "姓名")
    return (FileSuite("file_roster", "roster", None, (
        _required(("评委会编号", "专家编号", "姓名"), show),
        FileCheck("committee_known", "评委会编号是 committees.yaml 中的评委会", "one_of",
                  {"column": "评委会编号", "values": sorted(config.committees),
                   "message": "评委会编号 {value} 不存在"}, show),
        FileCheck("employer_uscc_valid", "工作单位的统一社会信用代码（如填写）符合 GB 32100", "uscc",
                  {"column": "统一社会信用代码"}, show + ("统一社会信用代码",)),
        FileCheck("state_known", "状态（如填写）为 在任、停用、离任、是、否 之一", "one_of",
                  {"column": "状态", "values": list(ROSTER_STATES),
                   "message": "状态 {value} 应为 在任 或 停用"}, show + ("状态",)),
        FileCheck("member_once", "每位专家在一个评委会中只列一次", "unique",
                  {"columns": ["评委会编号", "专家编号"], "message": "专家编号 {member} 与第 {first} 行重复"},
                  show),
    )),)


def session(config: Config) -> tuple[FileSuite, ...]:
    return (
        FileSuite("file_session_meeting", "session", "会议", (
            _required(("会议编号", "评委会编号", "召开日期"), ("会议编号", "评委会编号")),
            FileCheck("one_session", "工作表 会议 只有一行（一个工作簿一次会议）", "single_row",
                      {"message": "工作表 会议 只能有一行（一个工作簿一次会议）"}, ("会议编号",)),
            FileCheck("committee_known", "评委会编号是 committees.yaml 中的评委会", "one_of",
                      {"column": "评委会编号", "values": sorted(config.committees),
                       "message": "评委会编号 {value} 不存在"}, ("会议编号", "评委会编号")),
            FileCheck("held_on_is_date", "召开日期是日期（如 2026-06-03、2026/6/3、2026年6月3日）", "is_date",
                      {"column": "召开日期"}, ("会议编号", "召开日期")),
            FileCheck("members_odd", "委员人数（如填写）为奇数", "matches",
                      {"column": "委员人数", "pattern": r"\d*[13579]", "message": "委员人数 {value} 应为奇数"},
                      ("会议编号", "委员人数")),
        )),
        FileSuite("file_session_agenda", "session", "议程", (
            _required(("申报编号",), ("申报编号",)),
            FileCheck("application_once", "议程上每个申报只列一次", "unique",
                      {"columns": ["申报编号"], "message": "申报编号 {application} 与第 {first} 行重复"},
                      ("申报编号",)),
        )),
        FileSuite("file_session_attendance", "session", "出席", (
            _required(("专家编号", "是否出席"), ("专家编号",)),
            FileCheck("attendance_word", "是否出席为 是 或 否（出席/缺席、Y/N、1/0）", "one_of",
                      {"column": "是否出席", "values": list(ATTENDANCE_WORDS),
                       "message": "是否出席 {value} 应为 是 或 否"}, ("专家编号", "是否出席")),
            FileCheck("member_once", "每位专家只列一次", "unique",
                      {"columns": ["专家编号"], "message": "专家编号 {member} 与第 {first} 行重复"},
                      ("专家编号",)),
        )),
        FileSuite("file_session_recusals", "session", "回避", (
            _required(("专家编号", "申报编号"), ("专家编号", "申报编号")),
        )),
    )


def decisions(config: Config) -> tuple[FileSuite, ...]:
    show = ("申报编号", "环节", "处理结果", "处理单位")
    stages = sorted(s for s, kind in config.chains.kinds.items() if kind == "review")
    return (FileSuite("file_decisions", "decisions", None, (
        _required(("申报编号", "环节", "处理结果", "经办人", "处理单位", "处理时间"), show),
        FileCheck("result_known", "处理结果为 通过、退回 或 不通过（同意、退回修改、不同意）", "one_of",
                  {"column": "处理结果", "values": list(REVIEW_RESULTS),
                   "message": "处理结果“{value}”无法识别：应为 通过、退回 或 不通过"}, show),
        FileCheck("stage_is_review", "环节是流程中的审核环节（chains.yaml，名称完全一致）", "one_of",
                  {"column": "环节", "values": stages,
                   "message": "环节“{value}”不是审核环节（名称须与流程中的审核环节完全一致）"}, show),
        FileCheck("decided_at_is_time", "处理时间是日期时间（如 2026-06-03 10:00，不是 Excel 日期序列号）",
                  "is_time", {"column": "处理时间"}, show + ("处理时间",)),
        FileCheck("application_id_is_text", "申报编号不是 Excel 的科学计数法数字（如 3.2E+17）",
                  "not_matching", {"column": "申报编号", "pattern": SCIENTIFIC,
                                   "message": "申报编号 {value} 是 Excel 的科学计数法：请把该列设为“文本”"},
                  show),
    )),)


def objections(config: Config) -> tuple[FileSuite, ...]:
    show = ("公示编号", "申报编号", "异议编号", "处理结果")
    upheld = sorted(w for w, state in DECISION_WORDS.items() if state == UPHELD)
    return (FileSuite("file_objections", "objections", None, (
        _required(("公示编号", "申报编号"), show),
        FileCheck("new_objection_complete", "新异议（无异议编号）填写了异议时间和异议内容", "lodging_complete",
                  {"key": "异议编号", "needed": ["异议时间", "异议内容"]}, show),
        FileCheck("lodged_at_is_time", "异议时间是日期时间（如 2026-06-03 10:00）", "is_time",
                  {"column": "异议时间"}, show + ("异议时间",)),
        FileCheck("decided_at_is_time", "处理时间（如填写）是日期时间（如 2026-06-03 10:00）", "is_time",
                  {"column": "处理时间"}, show + ("处理时间",)),
        FileCheck("decision_known", "处理结果（如填写）为 成立 或 不成立", "one_of",
                  {"column": "处理结果", "values": sorted(DECISION_WORDS),
                   "message": "处理结果 {value} 应为 成立 或 不成立"}, show),
        FileCheck("upheld_has_reason", "异议成立时填写了处理理由（记入审核记录）", "upheld_has_reason",
                  {"column": "处理结果", "words": upheld, "reason": "处理理由"}, show),
        FileCheck("objection_id_is_number", "异议编号（如填写）是数字", "matches",
                  {"column": "异议编号", "pattern": r"\d+", "message": "异议编号 {value} 不是数字"}, show),
    )),)


_BUILDERS = {"ballots": ballots, "roster": roster, "session": session,
             "decisions": decisions, "objections": objections}
FILE_KINDS: tuple[str, ...] = tuple(_BUILDERS)


def file_suites(kind: str, config: Config) -> tuple[FileSuite, ...]:
    """The suites of one kind of staff file (a session workbook has one per sheet)."""
    try:
        return _BUILDERS[kind](config)
    except KeyError:
        raise KeyError(f"unknown file kind {kind!r}; one of {', '.join(FILE_KINDS)}") from None


def shown_row(row: dict[str, Any], show: list[str] | tuple[str, ...], problem: str) -> dict[str, Any]:
    """A failing row as Data Docs and the results show it: its row number, the check's
    columns (names masked, free text and the vote never) and the problem."""
    out: dict[str, Any] = {ROW: row.get(ROW)}
    for column in show:
        if column in HIDDEN_COLUMNS or column == ROW:
            continue
        value = row.get(column)
        value = None if _missing(value) else value
        out[column] = mask_name(value) if column in NAME_COLUMNS and value is not None else value
    out[PROBLEM] = problem
    return out


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)
