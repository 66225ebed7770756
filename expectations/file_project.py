"""The file suites in the workspace's great-expectations project (issue 24).

Next to the database suites (expectations.project), `$ZHICHENG_HOME/gx` holds the pandas
data source `zhicheng_files` with one DataFrame asset per file suite
(expectations.files), its batch definition `whole_file`, the suite, the validation
definition and a Checkpoint of the suite's name that validates it and updates the Data
Docs. A file is checked by running that Checkpoint with the file's DataFrame:

    ctx.checkpoints.get("file_ballots").run(batch_parameters={"dataframe": frame})

(zhicheng.quality.file_checks reads a file into the DataFrames as the importer reads it). As for
the database suites, each sync rewrites the expectations whose meta `managed_by` is
`zhicheng` and keeps a team's own ones, which then run on the next file.
"""
from __future__ import annotations

import datetime as dt

from great_expectations.checkpoint import UpdateDataDocsAction
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.exceptions import DataContextError

import great_expectations as gx

from zhicheng.expectations import file_gx, project
from zhicheng.expectations.files import FileSuite

DATASOURCE = "zhicheng_files"
BATCH = "whole_file"


def sync(ctx, suites: tuple[FileSuite, ...]) -> None:
    """Make the project hold these file suites (team expectations kept), with their
    validation definitions and Checkpoints, and the offline Data Docs site."""
    project.ensure_site(ctx)
    source = _datasource(ctx)
    for suite in suites:
        definition = _definition(ctx, source, suite)
        ctx.checkpoints.add_or_update(gx.Checkpoint(
            name=suite.name, validation_definitions=[definition],
            actions=[UpdateDataDocsAction(name="update_data_docs", site_names=[project.SITE])],
            result_format=project.RESULT_FORMAT))


def _datasource(ctx):
    try:
        return ctx.data_sources.get(DATASOURCE)
    except (KeyError, ValueError, LookupError, DataContextError):
        return ctx.data_sources.add_pandas(name=DATASOURCE)


def _definition(ctx, source, suite: FileSuite):
    asset = (source.get_asset(suite.name) if suite.name in source.get_asset_names()
             else source.add_dataframe_asset(name=suite.name))
    batch = (asset.get_batch_definition(BATCH) if BATCH in {b.name for b in asset.batch_definitions}
             else asset.add_batch_definition_whole_dataframe(BATCH))
    gsuite = ctx.suites.add_or_update(project.merged_suite(
        ctx, suite.name, [file_gx.expectation(c) for c in suite.checks],
        f"zhicheng 文件套件 `{suite.name}`（{suite.kind} 文件{'工作表 ' + suite.sheet if suite.sheet else ''}）"))
    return ctx.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=suite.name, data=batch, suite=gsuite))


def run(ctx, suite: str, frame, *, run_name: str, run_time: dt.datetime):
    """Run the suite's Checkpoint over `frame`: the result is stored in the project and
    its Data Docs page (and the index) are built. Returns the suite's validation result."""
    result = ctx.checkpoints.get(suite).run(
        batch_parameters={"dataframe": frame},
        run_id=RunIdentifier(run_name=run_name, run_time=run_time))
    project.copy_site_assets(ctx)
    return next(iter(result.run_results.values()))
