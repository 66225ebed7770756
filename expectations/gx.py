"""Two great-expectations expectations over SQL, and the metric behind both.

- ExpectNoOffendingRows: a query selects the offending rows; none may come back.
- ExpectRowsToPassRule: a query selects rows; a Python rule (expectations.rules) must
  pass each one. The rows stream from the database in chunks (server-side cursor on
  PostgreSQL), so memory stays flat however large the table.

Both keep the first rows that fail (to say which rows) and count the rest, running
their query once. The built-in UnexpectedRowsExpectation runs it twice (a count, then
a fetch), which doubles the time over a million certificates.

great-expectations resolves a suite's metrics one after the other, so `zhicheng
quality` computes them first, several checks at once (`prefetched`): each query on a
connection of its own, the database working on one per core while Python checks the
rows of another; the expectations then read what was computed. A Checkpoint run from a
notebook computes each as it comes, with the same result.
"""
from __future__ import annotations

import datetime as dt
import decimal
import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, ClassVar, Optional

import sqlalchemy as sa
from sqlalchemy.sql.expression import TableClause
from great_expectations.core.metric_domain_types import MetricDomainTypes
from great_expectations.execution_engine import SqlAlchemyExecutionEngine
from great_expectations.expectations.expectation import BatchExpectation
from great_expectations.expectations.metrics.metric_provider import metric_value
from great_expectations.expectations.metrics.query_metric_provider import QueryMetricProvider
from great_expectations.render import RenderedStringTemplateContent, RenderedTableContent

from zhicheng.clock import local
from zhicheng.domain.privacy import mask_field
from great_expectations.render.components import LegacyDiagnosticRendererType
from great_expectations.render.renderer.renderer import renderer

from zhicheng.expectations import rules

METRIC = "zhicheng_rows.offending"
KEEP_ROWS = 200        # rows kept per expectation (the rest are only counted)
SHOW_ROWS = 20         # rows shown in Data Docs
DEFAULT_CHUNK = 10_000


class OffendingRows(QueryMetricProvider):
    """{"checked", "unexpected_count", "rows"} of a query, with or without a rule."""

    metric_name = METRIC
    value_keys = ("query", "rule", "rule_args", "chunk_size")

    @metric_value(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(cls, execution_engine: SqlAlchemyExecutionEngine, metric_domain_kwargs: dict,
                    metric_value_kwargs: dict, metrics: dict, runtime_configuration: dict) -> dict:
        batch, _, _ = execution_engine.get_compute_domain(
            metric_domain_kwargs, domain_type=MetricDomainTypes.TABLE)
        table = _batch_sql(batch, execution_engine.engine.dialect)
        query = cls._format_query(metric_value_kwargs["query"], batch=table)
        key = _key(query, metric_value_kwargs.get("rule"), metric_value_kwargs.get("rule_args"))
        if key in _COMPUTED:
            return _COMPUTED[key]
        return _offending(execution_engine.engine, table, query, metric_value_kwargs.get("rule"),
                          metric_value_kwargs.get("rule_args"),
                          int(metric_value_kwargs.get("chunk_size") or DEFAULT_CHUNK))


# What `prefetched` computed, by query and rule, for the metric to read.
_COMPUTED: dict[tuple[str, str | None, str], dict] = {}


def _key(query: str, rule: str | None, rule_args: dict | None) -> tuple[str, str | None, str]:
    # the arguments as great-expectations hands them back (stored as JSON, keys reordered)
    return query, rule, json.dumps(rule_args or {}, sort_keys=True, ensure_ascii=False)


def _offending(engine: sa.Engine, table: str, query: str, rule: str | None, rule_args: dict | None,
               chunk: int) -> dict:
    check = rules.build(rule, rule_args) if rule else None
    found = _scan(engine, query, check, chunk)
    if check is None:
        # The query selected only the offending rows: the rows checked are the table's
        # (a 36-row table with no fault is "0 of 36", not "0 of 0").
        found["checked"] = _count(engine, f"SELECT COUNT(*) FROM {table} AS counted")
    return found


@contextmanager
def prefetched(engine: sa.Engine, suite: Any, *, chunk: int, workers: int) -> Iterator[None]:
    """Within: the suite's checks already computed, `workers` at a time, longest
    first (the certificates' serial window, the file checks), for its expectations to read."""
    table = engine.dialect.identifier_preparer.quote(suite.table)
    jobs = [(c, c.query.format(batch=table)) for c in
            sorted(suite.checks, key=lambda c: (c.rule is None, "OVER" not in c.query))]

    def compute(job: tuple[Any, str]) -> dict | None:
        check, query = job
        try:
            return _offending(engine, table, query, check.rule, check.rule_args, chunk)
        except Exception:  # noqa: BLE001  GX computes it again and reports the error as the check's
            return None
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="quality-check") as pool:
        done = {_key(query, c.rule, c.rule_args): found
                for (c, query), found in zip(jobs, pool.map(compute, jobs), strict=True) if found is not None}
    _COMPUTED.update(done)
    try:
        yield
    finally:
        for key in done:
            _COMPUTED.pop(key, None)


def _batch_sql(batch, dialect) -> str:
    """`{batch}` as our queries use it: the table's name when the batch is a whole table
    (so the database plans the query over the table and its indexes), else the batch's
    SELECT in parentheses, which every query gives an alias."""
    if isinstance(batch, TableClause):
        return dialect.identifier_preparer.format_table(batch)
    inner = getattr(batch, "element", batch)  # a Subquery wraps its SELECT
    if isinstance(inner, sa.Select) and _always_true(inner.whereclause, dialect):
        froms = inner.get_final_froms()
        if len(froms) == 1 and isinstance(froms[0], TableClause):
            return dialect.identifier_preparer.format_table(froms[0])
    compiled = inner.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    return f"({compiled})"


def _always_true(where, dialect) -> bool:
    # great-expectations selects a whole table as SELECT * ... WHERE 1 = 1 (or true)
    if where is None:
        return True
    text = str(where.compile(dialect=dialect)).strip().lower()
    return text in ("1 = 1", "1=1", "true")


def _count(engine: sa.Engine, query: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(query)).scalar_one())


def _scan(engine: sa.Engine, query: str, check, chunk: int) -> dict:
    checked = bad = 0
    kept: list[dict] = []
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=chunk).execute(sa.text(query))
        for part in result.partitions(chunk):  # an explicit size: without one, SQLAlchemy 2.1 buffers far more
            checked += len(part)
            for row in part:
                m = row._mapping
                problem = check(m) if check else None
                if check and problem is None:
                    continue
                bad += 1
                if len(kept) < KEEP_ROWS:
                    kept.append(_plain(m, problem, sqlite=sqlite))
    return {"checked": checked, "unexpected_count": bad, "rows": kept}


def _plain(mapping, problem: str | None, *, sqlite: bool) -> dict[str, Any]:
    # Kept rows reach the result files, Data Docs, the CLI and artifacts: personal
    # fields masked (the rule has seen them whole).
    row = {k: mask_field(k, _json_value(v, sqlite=sqlite)) for k, v in mapping.items()}
    if problem is not None:
        row["problem"] = problem
    return row


# How a datetime column comes back from SQLite through plain SQL: UTC text (zhicheng.db.types).
_SQLITE_UTC_TEXT = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?")


def _json_value(v: Any, *, sqlite: bool = False) -> Any:
    """JSON for the rows shown to the data team: times as Asia/Shanghai with their offset,
    alike from both engines (PostgreSQL gives aware datetimes, SQLite its stored UTC text)."""
    if sqlite and isinstance(v, str) and _SQLITE_UTC_TEXT.fullmatch(v):
        v = dt.datetime.fromisoformat(v).replace(tzinfo=dt.timezone.utc)
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return local(v).isoformat()
    if isinstance(v, (dt.date, dt.datetime, dt.time)):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).hex()
    return v


class _RowsExpectation(BatchExpectation):
    """Shared by both: success when no row offends; the rows shown in Data Docs."""

    query: str
    chunk_size: int = DEFAULT_CHUNK
    metric_dependencies: ClassVar[tuple[str, ...]] = (METRIC,)

    @classmethod
    def is_abstract(cls) -> bool:
        return cls.__name__ == "_RowsExpectation" or super().is_abstract()

    def _validate(self, metrics: dict, runtime_configuration: Optional[dict] = None,
                  execution_engine=None) -> dict:
        m = metrics[self.metric_dependencies[0]]   # each subclass names its own metric
        return {"success": m["unexpected_count"] == 0,
                "result": {"observed_value": m["unexpected_count"], "element_count": m["checked"],
                           "details": {"unexpected_rows": m["rows"]}}}

    @classmethod
    @renderer(renderer_type=LegacyDiagnosticRendererType.OBSERVED_VALUE)
    def _diagnostic_observed_value_renderer(cls, configuration=None, result=None,
                                            runtime_configuration=None, **kwargs):
        r = (result.result or {}) if result is not None else {}
        n = r.get("observed_value")
        return "--" if n is None else f"{n} 行不符合（检查 {r.get('element_count', 0)} 行）"

    @classmethod
    @renderer(renderer_type=LegacyDiagnosticRendererType.UNEXPECTED_TABLE)
    def _diagnostic_unexpected_table_renderer(cls, configuration=None, result=None,
                                              runtime_configuration=None, **kwargs):
        rows = ((result.result or {}).get("details") or {}).get("unexpected_rows") if result else None
        if not rows:
            return None
        header = list(rows[0].keys())
        table = RenderedTableContent(
            content_block_type="table", header_row=header,
            table=[[_cell(r.get(k)) for k in header] for r in rows[:SHOW_ROWS]],
            styling={"body": {"classes": ["table-bordered", "table-sm", "mt-3"]}})
        more = result.result.get("observed_value", 0) - min(len(rows), SHOW_ROWS)
        if more <= 0:
            return [table]
        note = RenderedStringTemplateContent(content_block_type="string_template", string_template={
            "template": f"另有 {more} 行未列出（结果文件中最多保留 {KEEP_ROWS} 行）", "params": {}})
        return [table, note]


def _cell(v: Any) -> str:
    return "" if v is None else str(v)


class ExpectNoOffendingRows(_RowsExpectation):
    """The query selects the rows that break the rule; it must select none."""

    success_keys: ClassVar[tuple[str, ...]] = ("query", "chunk_size")


class ExpectRowsToPassRule(_RowsExpectation):
    """Every row the query selects passes a Python rule (expectations.rules), in chunks."""

    rule: str
    rule_args: dict = {}
    success_keys: ClassVar[tuple[str, ...]] = ("query", "rule", "rule_args", "chunk_size")


def expectation(check, chunk_size: int = DEFAULT_CHUNK) -> BatchExpectation:
    """The great-expectations expectation of one check (expectations.spec.Check)."""
    common = dict(query=check.query, chunk_size=chunk_size, description=check.description,
                  meta={"check": check.name, "managed_by": "zhicheng"})
    if check.rule:
        return ExpectRowsToPassRule(rule=check.rule, rule_args=dict(check.rule_args), **common)
    return ExpectNoOffendingRows(**common)


# The Checkpoint's action that records a run in zhicheng's history, registered with GX
# by this import (a team imports this module to open the project).
from zhicheng.expectations import actions  # noqa: E402,F401


# The file suites expectation (expectations.file_gx), registered with GX by this import too.
from zhicheng.expectations import file_gx  # noqa: E402,F401
