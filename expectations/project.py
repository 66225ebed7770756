"""The great-expectations project of the workspace: `$ZHICHENG_HOME/gx` (issue 24).

A file-backed project, as a data team knows it: one expectation suite, validation
definition and table asset per suite of zhicheng.expectations, and the Checkpoint
`zhicheng_quality` that validates them all and updates the Data Docs. `zhicheng quality`
and the flow run the same validation definitions, so a team's `checkpoint.run()` and a
scheduled run give the same answers and feed the same history.

Every run syncs the project first (`sync`): the suites' own expectations (meta
`managed_by: zhicheng`) are rewritten from code, with the run's moment and scope; any
other expectation in a suite's JSON is a team's own and is kept, so it runs in the next
run too. The database URL is kept out of great_expectations.yml, as the config variable
ZHICHENG_GX_DATABASE_URL in uncommitted/config_variables.yml (0600, like the workspace).

The Data Docs site `zhicheng_quality` is `$ZHICHENG_HOME/quality/` (its index.html) and
keeps every stored run; its pages load nothing from the internet (offline_docs). The
staff files' suites live in the same project and site (expectations.file_project).
"""
from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import great_expectations as gx  # noqa: E402
from great_expectations.checkpoint import UpdateDataDocsAction  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402
from great_expectations.exceptions import DataContextError  # noqa: E402

from zhicheng.expectations import gx as zgx  # noqa: E402  (registers the expectations)
from zhicheng.expectations import offline_docs  # noqa: E402
from zhicheng.expectations.actions import RecordHistoryAction  # noqa: E402
from zhicheng.expectations.spec import Suite  # noqa: E402

PROJECT_DIR = "gx"
DATASOURCE = "zhicheng"
SITE = "zhicheng_quality"
CHECKPOINT = "zhicheng_quality"
URL_VARIABLE = "ZHICHENG_GX_DATABASE_URL"
MANAGED = "zhicheng"
# Results of a team's own built-in expectations: counts, and no values. Values of a
# column could be personal data (docs/privacy.md); our SQL checks show their rows masked.
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 0}


def open_project(home: Path):
    """The workspace's great-expectations project (made when missing), with zhicheng's
    expectations registered: what a notebook gets from zhicheng.datasets.gx_context()."""
    return gx.get_context(mode="file", project_root_dir=str(Path(home)))


def sync(ctx, suites: list[Suite], *, url: str, schema: str | None, chunk_size: int) -> None:
    """Make the project hold these suites (team expectations kept), their validation
    definitions, the Checkpoint and the offline Data Docs site."""
    ensure_site(ctx)
    ctx.save_config_variable(URL_VARIABLE, url)
    source = _datasource(ctx, url, schema)
    definitions = [_definition(ctx, source, s, chunk_size) for s in suites]
    record = RecordHistoryAction(name="zhicheng_record_history", database_url="${" + URL_VARIABLE + "}",
                                 database_schema=schema)
    checkpoint = gx.Checkpoint(name=CHECKPOINT, validation_definitions=definitions,
                               actions=[UpdateDataDocsAction(name="update_data_docs", site_names=[SITE]),
                                        record],
                               result_format=RESULT_FORMAT)
    ctx.checkpoints.add_or_update(checkpoint)


def ensure_site(ctx) -> None:
    """The project's settings: our offline Data Docs site only, no analytics, no bars."""
    site_dir = Path(ctx.root_directory).parent / "quality"
    sites = ctx.variables.data_docs_sites or {}
    sites.pop("local_site", None)  # one site: ours
    sites[SITE] = offline_docs.site_config("../quality/")
    ctx.variables.data_docs_sites = sites
    ctx.variables.analytics_enabled = False
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    ctx.variables.save()
    offline_docs.copy_assets(site_dir)


def _datasource(ctx, url: str, schema: str | None):
    """The database, named by the config variable: its URL (and password) stays out of
    great_expectations.yml. A PostgreSQL schema goes on the search path."""
    ref = "${" + URL_VARIABLE + "}"
    kwargs = {"connect_args": {"options": f"-csearch_path={schema}"}} if schema else {}
    try:
        source = ctx.data_sources.get(DATASOURCE)
    except (KeyError, ValueError, LookupError, DataContextError):
        source = None
    kind = "sqlite" if url.startswith("sqlite") else "postgres"
    if source is not None and source.type == kind and str(source.connection_string) == ref \
            and (kind == "sqlite" or (source.kwargs or {}) == kwargs):
        return source  # as it was: saving it again rewrites great_expectations.yml
    if url.startswith("sqlite"):
        return ctx.data_sources.add_or_update_sqlite(name=DATASOURCE, connection_string=ref)
    return ctx.data_sources.add_or_update_postgres(name=DATASOURCE, connection_string=ref, kwargs=kwargs)


def _definition(ctx, source, suite: Suite, chunk_size: int):
    asset = (source.get_asset(suite.table) if suite.table in source.get_asset_names()
             else source.add_table_asset(name=suite.table, table_name=suite.table))
    batch_name = f"{suite.table}_all"
    batch = (asset.get_batch_definition(batch_name)
             if batch_name in {b.name for b in asset.batch_definitions}
             else asset.add_batch_definition_whole_table(batch_name))
    gsuite = ctx.suites.add_or_update(merged_suite(
        ctx, suite.name, [zgx.expectation(check, chunk_size) for check in suite.checks],
        f"zhicheng 套件 `{suite.name}`（表 `{suite.table}`）"))
    return ctx.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=suite.name, data=batch, suite=gsuite))


def merged_suite(ctx, name: str, ours: list, title: str):
    """Our expectations from code, then the team's own ones as they are in the JSON."""
    try:
        stored = ctx.suites.get(name)
    except DataContextError:  # not in the project yet
        stored = None
    own = [e for e in (stored.expectations if stored else [])
           if (e.meta or {}).get("managed_by") != MANAGED]
    for e in own:
        e.id = None
    # Built whole, then stored once: add_expectation on a suite whose name is stored
    # writes the suite's JSON at every call.
    return gx.ExpectationSuite(
        name=name, expectations=list(ours) + own,
        meta={"notes": {"format": "markdown", "content":
                        f"{title}：managed_by: zhicheng "
                        "的期望由 zhicheng 每次运行前重写；其余期望由数据团队维护，保留。"}})


def run_definition(ctx, name: str, *, run_name: str, run_time):
    """Validate one suite as the Checkpoint does (same definition, same result format
    for a team's expectations); the result is stored in the project."""
    from great_expectations.core.run_identifier import RunIdentifier
    vd = ctx.validation_definitions.get(name)
    try:
        return vd.run(run_id=RunIdentifier(run_name=run_name, run_time=run_time),
                      result_format=RESULT_FORMAT)
    finally:
        # GX keeps the data source's engine, and its pooled connections, as long as the
        # context lives; a worker validating many runs would hold them open meanwhile.
        vd.data_source.get_execution_engine().engine.dispose()


def build_docs(ctx) -> Path:
    """The Data Docs of every stored run; returns the site's index.html."""
    ctx.build_data_docs(site_names=[SITE])
    return copy_site_assets(ctx)


def copy_site_assets(ctx) -> Path:
    """The site's vendored scripts and styles (after a build); returns its index.html."""
    site = Path(ctx.root_directory).parent / "quality"
    offline_docs.copy_assets(site)
    return site / "index.html"
