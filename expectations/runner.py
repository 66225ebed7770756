"""Run suites with great-expectations: an ephemeral context, the database as a SQL data
source, one validation per suite, and Data Docs in a file-backed site.

Each suite is validated on its own (a task each in the flow); the Data Docs are then
built once from the run's saved results, so the site shows exactly the last run
(great-expectations removes pages whose results are not in the context).
"""
from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path
from typing import Any

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import great_expectations as gx  # noqa: E402  (after the analytics switch)
from great_expectations.core.expectation_validation_result import (  # noqa: E402
    ExpectationSuiteValidationResultSchema)
from great_expectations.core.run_identifier import RunIdentifier  # noqa: E402
from great_expectations.data_context.types.base import (  # noqa: E402
    DataContextConfig, InMemoryStoreBackendDefaults, ProgressBarsConfig)
from great_expectations.data_context.types.resource_identifiers import (  # noqa: E402
    ExpectationSuiteIdentifier, ValidationResultIdentifier)

from zhicheng.expectations import gx as zgx  # noqa: E402
from zhicheng.expectations.spec import Suite  # noqa: E402

DATASOURCE = "zhicheng"
SITE = "zhicheng_quality"
logging.getLogger("great_expectations").setLevel(logging.WARNING)


def new_context(docs_dir: Path | None = None):
    config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults(),
                               analytics_enabled=False,
                               progress_bars=ProgressBarsConfig(globally=False))
    ctx = gx.get_context(mode="ephemeral", project_config=config)
    if docs_dir is not None:
        ctx.add_data_docs_site(site_name=SITE, site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder",
                                   "show_cta_footer": False}})
    return ctx


def add_database(ctx, *, url: str, schema: str | None = None):
    """The database as a data source; a PostgreSQL schema is put on the search path."""
    if url.startswith("sqlite"):
        return ctx.data_sources.add_sqlite(name=DATASOURCE, connection_string=url)
    kwargs = {"connect_args": {"options": f"-csearch_path={schema}"}} if schema else {}
    return ctx.data_sources.add_postgres(name=DATASOURCE, connection_string=url, kwargs=kwargs)


def gx_suite(suite: Suite, chunk_size: int):
    s = gx.ExpectationSuite(name=suite.name)
    for check in suite.checks:
        s.add_expectation(zgx.expectation(check, chunk_size))
    return s


def validate(ctx, datasource, suite: Suite, *, run_name: str, run_time: dt.datetime,
             chunk_size: int) -> dict[str, Any]:
    """Validate one suite; returns the result as great-expectations' JSON document."""
    asset = datasource.add_table_asset(name=suite.table, table_name=suite.table)
    batch = asset.add_batch_definition_whole_table(f"{suite.table}_all")
    gsuite = ctx.suites.add(gx_suite(suite, chunk_size))
    vd = ctx.validation_definitions.add(gx.ValidationDefinition(name=suite.name, data=batch,
                                                                suite=gsuite))
    result = vd.run(run_id=RunIdentifier(run_name=run_name, run_time=run_time),
                    result_format="COMPLETE")
    return result.to_json_dict()


def build_docs(docs_dir: Path, results: list[tuple[Suite, dict[str, Any]]],
               chunk_size: int) -> Path:
    """Data Docs of these results (and their suites) in docs_dir; returns index.html."""
    ctx = new_context(docs_dir)
    schema = ExpectationSuiteValidationResultSchema()
    for suite, doc in results:
        ctx.suites.add(gx_suite(suite, chunk_size))
        result = schema.load(doc)
        run = doc["meta"]["run_id"]
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite.name),
            run_id=RunIdentifier(run_name=run["run_name"],
                                 run_time=dt.datetime.fromisoformat(run["run_time"])),
            batch_identifier=f"{DATASOURCE}-{suite.table}")
        ctx.validation_results_store.set(key, result)
    ctx.build_data_docs(site_names=[SITE])
    return docs_dir / "index.html"


def check_results(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Plain per-check outcome of a suite's result document."""
    out = []
    for r in doc["results"]:
        cfg, res = r["expectation_config"], r.get("result") or {}
        out.append({"check": (cfg.get("meta") or {}).get("check", cfg["type"]),
                    "description": cfg.get("description"), "success": bool(r["success"]),
                    "unexpected_count": res.get("observed_value"),
                    "checked": res.get("element_count"),
                    "rows": (res.get("details") or {}).get("unexpected_rows", []),
                    "error": _error(r.get("exception_info") or {})})
    return out


def _error(info: dict[str, Any]) -> str | None:
    """The message of an expectation that could not be evaluated (e.g. its SQL failed).
    great-expectations gives it flat, or per metric that raised."""
    entries = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    for entry in entries:
        if entry.get("raised_exception"):
            return str(entry.get("exception_message") or "error").splitlines()[0][:500]
    return None
