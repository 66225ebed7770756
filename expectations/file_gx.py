"""The great-expectations expectation of the file suites, over a pandas DataFrame.

`expect_file_rows_to_pass_rule`: every row of the staff file passes a rule of
expectations.file_rules (a whole column at a time). Its result reads like the database
suites' (expectations.gx): "N 行不符合（检查 M 行）", and the first rows that fail,
each with its row number, the check's columns (masked) and the problem in Chinese.
"""
from __future__ import annotations

from typing import ClassVar

from great_expectations.core.metric_domain_types import MetricDomainTypes
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.metrics.metric_provider import metric_value
from great_expectations.expectations.metrics.table_metric_provider import TableMetricProvider

from zhicheng.expectations import file_rules
from zhicheng.expectations.files import shown_row
from zhicheng.expectations.gx import KEEP_ROWS, _RowsExpectation

METRIC = "zhicheng_file_rows.offending"


class FileOffendingRows(TableMetricProvider):
    """{"checked", "unexpected_count", "rows"} of a rule over the batch's DataFrame."""

    metric_name = METRIC
    value_keys = ("rule", "rule_args", "show")

    @metric_value(engine=PandasExecutionEngine)
    def _pandas(cls, execution_engine: PandasExecutionEngine, metric_domain_kwargs: dict,
                metric_value_kwargs: dict, metrics: dict, runtime_configuration: dict) -> dict:
        df, _, _ = execution_engine.get_compute_domain(metric_domain_kwargs, domain_type=MetricDomainTypes.TABLE)
        return offending(df, metric_value_kwargs["rule"], metric_value_kwargs.get("rule_args") or {},
                         metric_value_kwargs.get("show") or [])


def offending(df, rule: str, rule_args: dict, show) -> dict:
    """The rule's verdict on a frame: rows checked, rows failing, the first KEEP_ROWS shown."""
    found = file_rules.problems(df, rule, rule_args)
    bad = found.notna()
    failing = df.loc[bad].head(KEEP_ROWS)
    rows = [shown_row(r, show, p) for r, p in zip(failing.to_dict("records"), found[bad].head(KEEP_ROWS), strict=True)]
    return {"checked": len(df), "unexpected_count": int(bad.sum()), "rows": rows}


class ExpectFileRowsToPassRule(_RowsExpectation):
    """Every row of the staff file passes a rule of expectations.file_rules."""

    rule: str
    rule_args: dict = {}
    show: list = []
    query: str = ""  # not used: the rule reads the DataFrame
    metric_dependencies: ClassVar[tuple[str, ...]] = (METRIC,)
    success_keys: ClassVar[tuple[str, ...]] = ("rule", "rule_args", "show")


def expectation(check) -> ExpectFileRowsToPassRule:
    """The great-expectations expectation of one file check (expectations.files.FileCheck)."""
    return ExpectFileRowsToPassRule(rule=check.rule, rule_args=dict(check.rule_args), show=list(check.show),
                                    description=check.description,
                                    meta={"check": check.name, "managed_by": "zhicheng"})
