"""The rules of the file suites: vectorised checks over a staff file as a DataFrame.

A staff file (ballots, roster, session sheets, decisions, objections) arrives as a
DataFrame of text cells, one column per header as the file names it (Chinese), empty
cells as missing, and the spreadsheet's row number in ROW. A rule takes the frame and
its arguments (plain data from the suite) and returns, per row, the problem in Chinese
or None: a whole column at a time, so 100,000 ballots take a fraction of a second.

The importers' own checks (zhicheng.votes, .review, .publicity) stay the authority on whether a file is
taken; these rules are the data team's view of the same files, so they only look at
what the file itself holds (the database's applications and sessions are the
importer's to look up).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd

from zhicheng.domain.identity import uscc_problems
from zhicheng.domain.shanghai_time import TypedTimeError, typed_date, typed_time

ROW = "行号"          # the spreadsheet's row number, as the importer's refusal names it
PROBLEM = "问题"      # the column a failing row's explanation is shown in

Rule = Callable[..., pd.Series]

# zhicheng.domain.identity.uscc_problems' reasons, as the data team reads them
USCC_PROBLEMS = {"shape": "应为 18 位", "alphabet": "含不允许的字符", "kind": "登记管理部门或机构类别代码无效",
                 "region": "登记管理机关行政区划码不是数字", "org_code": "组织机构代码校验位不符",
                 "check_char": "校验码不符"}


def _none(df: pd.DataFrame) -> pd.Series:
    return pd.Series([None] * len(df), index=df.index, dtype=object)


def _column(df: pd.DataFrame, name: str) -> pd.Series:
    """The column's cells (missing where empty); a column the file lacks is all missing."""
    return df[name] if name in df.columns else pd.Series([None] * len(df), index=df.index, dtype=object)


def required(df: pd.DataFrame, columns: list[str]) -> pd.Series:
    """Each of `columns` holds a value: `申报编号 为空`."""
    problems = [_column(df, c).isna().map({True: f"{c} 为空", False: None}) for c in columns]
    return combine(problems, df.index)


def one_of(df: pd.DataFrame, column: str, values: list[str], message: str) -> pd.Series:
    """A value, when there is one, is one of `values`. `message` may name the value as
    {value} (a rule for a secret vote does not)."""
    col = _column(df, column)
    bad = col.notna() & ~col.isin(values)
    return _message(col, bad, message)


def matches(df: pd.DataFrame, column: str, pattern: str, message: str) -> pd.Series:
    """A value, when there is one, matches `pattern` whole."""
    col = _column(df, column)
    present = col.notna()
    ok = col[present].astype(str).str.fullmatch(pattern, flags=re.UNICODE)
    bad = present.copy()
    bad[present] = ~ok.fillna(False).astype(bool)
    return _message(col, bad, message)


def not_matching(df: pd.DataFrame, column: str, pattern: str, message: str) -> pd.Series:
    """A value, when there is one, does not match `pattern` whole (a number Excel wrote
    as 3.2E+17, a date typed as a number)."""
    col = _column(df, column)
    present = col.notna()
    hit = col[present].astype(str).str.fullmatch(pattern, flags=re.UNICODE)
    bad = present.copy()
    bad[present] = hit.fillna(False).astype(bool)
    return _message(col, bad, message)


def is_time(df: pd.DataFrame, column: str) -> pd.Series:
    """A value, when there is one, is a time as staff type it: the importers' own reader
    (zhicheng.domain.shanghai_time.typed_time), so file check and importer agree."""
    return _typed(df, column, typed_time)


def is_date(df: pd.DataFrame, column: str) -> pd.Series:
    """A value, when there is one, is a date as staff type it (typed_date)."""
    return _typed(df, column, typed_date)


def _typed(df: pd.DataFrame, column: str, read: Callable[..., Any]) -> pd.Series:
    col = _column(df, column)
    out = _none(df)
    for i, value in col.dropna().items():
        try:
            read(str(value), what=column)
        except TypedTimeError as exc:
            out.at[i] = str(exc)
    return out


def unique(df: pd.DataFrame, columns: list[str], message: str) -> pd.Series:
    """No two rows share the values of `columns` (rows with an empty key cell are left
    to `required`): the later rows name the first one, {first}."""
    keys = [_column(df, c) for c in columns]
    full = pd.concat(keys, axis=1, keys=columns)
    complete = full.notna().all(axis=1)
    sub = full[complete]
    dup = sub.duplicated(keep="first")
    out = _none(df)
    if dup.any():
        first = _column(df, ROW)[complete].groupby([sub[c] for c in columns], sort=False).transform("first")
        values = {c: sub[c] for c in columns}
        for i in dup[dup].index:
            out.at[i] = message.format(first=first.at[i], **{_key(c): values[c].at[i] for c in columns})
    return out


def _key(column: str) -> str:
    return {"会议编号": "session", "申报编号": "application", "专家编号": "member",
            "评委会编号": "committee"}.get(column, column)


def uscc(df: pd.DataFrame, column: str) -> pd.Series:
    """A unified social credit code, when given, passes GB 32100 (zhicheng.domain.identity)."""
    col = _column(df, column)
    out = _none(df)
    for i, value in col.dropna().items():
        problems = uscc_problems(str(value))
        if problems:
            why = "、".join(USCC_PROBLEMS.get(p, p) for p in problems)
            out.at[i] = f"{column} {value} 无效（{why}）"
    return out


def single_row(df: pd.DataFrame, message: str) -> pd.Series:
    """The sheet has one row: every row after the first is a problem."""
    out = _none(df)
    if len(df) > 1:
        out.iloc[1:] = message
    return out


def upheld_has_reason(df: pd.DataFrame, column: str, words: list[str], reason: str) -> pd.Series:
    """A row whose `column` is one of `words` (异议成立) has its `reason` filled in."""
    bad = _column(df, column).isin(words) & _column(df, reason).isna()
    return bad.map({True: f"{column}为成立时须填写{reason}", False: None})


def lodging_complete(df: pd.DataFrame, key: str, needed: list[str]) -> pd.Series:
    """A row without `key` (a new objection) has every column of `needed`."""
    new = _column(df, key).isna()
    parts = [(new & _column(df, c).isna()).map({True: f"新异议（无{key}）须填写{c}", False: None})
             for c in needed]
    return combine(parts, df.index)


def _message(col: pd.Series, bad: pd.Series, message: str) -> pd.Series:
    out = _none(col.to_frame())
    if bad.any():
        out[bad] = [message.format(value=v) for v in col[bad]]
    return out


def combine(parts: Iterable[pd.Series], index) -> pd.Series:
    """Per row, the problems of several series joined by '；' (None when none)."""
    out = pd.Series([None] * len(index), index=index, dtype=object)
    for part in parts:
        has = part.notna()
        if not has.any():
            continue
        both = has & out.notna()
        first = has & out.isna()
        out[first] = part[first]
        if both.any():
            out[both] = out[both] + "；" + part[both]
    return out


RULES: dict[str, Rule] = {
    "required": required, "one_of": one_of, "matches": matches, "not_matching": not_matching,
    "is_time": is_time, "is_date": is_date,
    "unique": unique, "uscc": uscc, "single_row": single_row,
    "upheld_has_reason": upheld_has_reason, "lodging_complete": lodging_complete,
}


def problems(df: pd.DataFrame, rule: str, args: dict[str, Any]) -> pd.Series:
    """The named rule's problem per row of `df`."""
    try:
        fn = RULES[rule]
    except KeyError:
        raise KeyError(f"unknown file rule {rule!r}; one of {', '.join(RULES)}") from None
    return fn(df, **args)
