"""The rules of the file suites (expectations.file_rules) and how a failing row is shown
(expectations.files.shown_row): plain DataFrames in, a problem per row out."""
from __future__ import annotations

import pandas as pd
import pytest

from zhicheng.config import get_config
from zhicheng.domain.identity import make_uscc
from zhicheng.expectations import file_rules as r
from zhicheng.expectations.files import FILE_KINDS, file_suites, shown_row


def frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame([{r.ROW: i + 2, **row} for i, row in enumerate(rows)])
    return df.astype(object).where(df.notna(), None)


def problems(series: pd.Series) -> list:
    return [None if v is None or v != v else v for v in series.tolist()]


def test_required_names_every_empty_column_of_a_row():
    df = frame([{"a": "1", "b": "x"}, {"a": None, "b": None}, {"a": "3", "b": None}])
    assert problems(r.required(df, ["a", "b"])) == [None, "a 为空；b 为空", "b 为空"]


def test_required_column_missing_from_the_file_is_empty_everywhere():
    assert problems(r.required(frame([{"a": "1"}]), ["b"])) == ["b 为空"]


def test_one_of_ignores_empty_cells_and_may_leave_the_value_out():
    df = frame([{"v": "同意"}, {"v": "赞成"}, {"v": None}])
    assert problems(r.one_of(df, "v", ["同意"], "不是有效意见")) == [None, "不是有效意见", None]
    assert problems(r.one_of(df, "v", ["同意"], "{value}?"))[1] == "赞成?"


def test_unique_names_the_first_row_of_the_same_key():
    df = frame([{"s": "S1", "m": "E1"}, {"s": "S1", "m": "E2"}, {"s": "S1", "m": "E1"},
                {"s": "S1", "m": "E1"}, {"s": None, "m": "E1"}])
    got = problems(r.unique(df, ["s", "m"], "与第 {first} 行重复（{m}）"))
    assert got == [None, None, "与第 2 行重复（E1）", "与第 2 行重复（E1）", None]


def test_matches_and_not_matching_look_at_whole_values():
    df = frame([{"t": "2026-06-03 10:00"}, {"t": "46176"}, {"t": "2026-06-03 10:00x"}, {"t": None}])
    assert problems(r.matches(df, "t", r"\d{4}-\d\d-\d\d \d\d:\d\d", "bad {value}")) == [
        None, "bad 46176", "bad 2026-06-03 10:00x", None]
    ids = frame([{"id": "3.2E+17"}, {"id": "SUB-00001"}])
    assert problems(r.not_matching(ids, "id", r"\d+(\.\d+)?[eE][+-]?\d+", "sci {value}")) == ["sci 3.2E+17", None]


def test_uscc_uses_the_gb_32100_rule():
    good = make_uscc("91", "320102", "MA1XY201")
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    df = frame([{"u": good}, {"u": bad}, {"u": None}, {"u": "123"}])
    assert problems(r.uscc(df, "u")) == [None, f"u {bad} 无效（校验码不符）", None, "u 123 无效（应为 18 位）"]


def test_single_row_marks_every_row_after_the_first():
    assert problems(r.single_row(frame([{"a": 1}, {"a": 2}, {"a": 3}]), "一行")) == [None, "一行", "一行"]


def test_objection_rows_lodging_and_upheld():
    df = frame([{"no": None, "at": None, "text": "x", "res": None, "why": None},
                {"no": "7", "at": None, "text": None, "res": "成立", "why": None},
                {"no": "8", "at": None, "text": None, "res": "成立", "why": "属实"}])
    assert problems(r.lodging_complete(df, "no", ["at", "text"])) == ["新异议（无no）须填写at", None, None]
    assert problems(r.upheld_has_reason(df, "res", ["成立"], "why")) == [None, "res为成立时须填写why", None]


def test_unknown_rule_is_named():
    with pytest.raises(KeyError, match="unknown file rule 'nope'"):
        r.problems(frame([{"a": 1}]), "nope", {})


def test_a_shown_row_masks_names_and_never_shows_the_vote_or_free_text():
    row = {r.ROW: 4, "姓名": "李小艳", "投票人": "王五", "表决意见": "同意", "异议内容": "身份证 320102199001010011",
           "专家编号": "E1"}
    shown = shown_row(row, ["专家编号", "姓名", "投票人", "表决意见", "异议内容"], "问题所在")
    assert shown == {r.ROW: 4, "专家编号": "E1", "姓名": "李*艳", "投票人": "王*", r.PROBLEM: "问题所在"}


def test_every_suite_builds_and_names_rules_that_exist():
    config = get_config()
    names = set()
    for kind in FILE_KINDS:
        for suite in file_suites(kind, config):
            assert suite.kind == kind and suite.name not in names
            names.add(suite.name)
            checks = [c.name for c in suite.checks]
            assert len(checks) == len(set(checks))
            for check in suite.checks:
                assert check.rule in r.RULES and check.description
                r.problems(frame([{}]), check.rule, check.rule_args)  # runs on an empty row
