"""The registry in a data team's tools (issue 24), on both engines: `zhicheng export` of
each dataset to CSV, XLSX and Parquet for a batch year or a region, read back by
pandas; personal data masked unless the deployment grants it; the same frames from
zhicheng.datasets for notebooks."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.integration.quality_data import clean_year
from zhicheng import datasets
from zhicheng.cli.main import app as cli
from zhicheng.db.models import Applicant, Application, OutboxItem
from zhicheng.domain.privacy import mask_id_number
from zhicheng.issuance.models import Certificate
from zhicheng.review.models import Decision


def _export(*args) -> dict:
    got = CliRunner().invoke(cli, ["export", *map(str, args), "--json"])
    assert got.exit_code == 0, got.output
    return json.loads(got.stdout)


def _read(path: str) -> pd.DataFrame:
    if path.endswith(".parquet"):
        return pd.read_parquet(path)
    if path.endswith(".xlsx"):
        return pd.read_excel(path, dtype=str)
    return pd.read_csv(path, encoding="utf-8-sig", dtype=str)


@pytest.fixture
def year(app):
    clean_year(app)
    with app.sessions() as s:
        return {"numbers": set(s.scalars(select(Applicant.id_number)))
                | set(s.scalars(select(Certificate.holder_id_number))),
                "applications": s.scalar(select(func.count()).select_from(Application)
                                         .where(Application.batch_year == 2026)),
                "certificates": s.scalar(select(func.count()).select_from(Certificate)),
                "decisions": s.scalar(select(func.count()).select_from(Decision)),
                "deliveries": s.scalar(select(func.count()).select_from(OutboxItem))}


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_each_dataset_exports_masked_and_reads_back(app, year, fmt, tmp_path):
    for name in ("applications", "certificates", "decisions", "deliveries"):
        done = _export(name, "--format", fmt, "--out", tmp_path / f"{name}.{fmt}")
        df = _read(done["path"])
        assert done["masked"] and len(df) == done["rows"] == year[name] > 0, name
        text = df.to_csv(index=False)
        assert not [n for n in year["numbers"] if n in text], name
    apps = _read(str(tmp_path / f"applications.{fmt}"))
    assert {"application_id", "submission_id", "batch_year", "region_code", "status",
            "id_number", "employer_uscc"} <= set(apps.columns)
    assert all(v == mask_id_number(v) and v[4:14] == "*" * 10 for v in apps["id_number"])
    certs = _read(str(tmp_path / f"certificates.{fmt}"))
    assert certs["certificate_no"].astype(str).str.len().eq(18).all()  # numbers stay whole
    if fmt == "parquet":  # types kept
        assert str(apps["submitted_at"].dt.tz) == "Asia/Shanghai"
        assert apps["application_id"].dtype.kind == "i"


def test_a_year_and_a_region_narrow_the_export(app, year):
    with app.sessions() as s:
        nanjing = s.scalar(select(func.count()).select_from(Certificate)
                           .where(Certificate.issuer_region_code.like("3201%")))
    assert 0 < nanjing < year["certificates"]
    certs = _read(_export("certificates", "--region", "320100")["path"])
    assert len(certs) == nanjing and certs["issuer_region_code"].astype(str).str.startswith("3201").all()
    none = _export("applications", "--batch-year", 1999, "--format", "parquet")
    assert none["rows"] == 0 and len(pd.read_parquet(none["path"])) == 0
    bad = CliRunner().invoke(cli, ["export", "applications", "--region", "32x"])
    assert bad.exit_code == 2 and "GB/T 2260" in bad.output
    assert CliRunner().invoke(cli, ["export", "ballots"]).exit_code == 2


def test_whole_numbers_only_where_the_deployment_grants_them(app, year, monkeypatch, tmp_path):
    refused = CliRunner().invoke(cli, ["export", "applications", "--unmasked"])
    assert refused.exit_code == 2 and "ZHICHENG_EXPORT_UNMASKED" in refused.output
    with pytest.raises(datasets.NotAllowed):
        datasets.frame("applications", unmasked=True, app=app)
    monkeypatch.setenv("ZHICHENG_EXPORT_UNMASKED", "true")
    done = _export("applications", "--unmasked", "--out", tmp_path / "whole.csv")
    assert not done["masked"] and set(_read(done["path"])["id_number"]) <= year["numbers"]


def test_notebooks_get_the_same_frames_and_the_quality_history(app, year):
    from zhicheng.quality import service as quality
    df = datasets.frame("decisions", batch_year=2026, app=app)
    assert len(df) == year["decisions"] and str(df["decided_at"].dt.tz) == "Asia/Shanghai"
    assert not [c for c in df.columns if c.startswith("_")]
    quality.run(app=app, suite="outbox")
    history = datasets.quality_history(app=app)
    assert set(history["check"]) == {"target_known", "nothing_pending_too_long"}
    ctx = datasets.gx_context(app=app)
    assert ctx.checkpoints.get("zhicheng_quality").name == "zhicheng_quality"


def test_region_codes_nest():
    assert [datasets.region_prefix(c) for c in ("320000", "320100", "3201", "320102", "32")] == \
        ["32", "3201", "3201", "320102", "32"]
    with pytest.raises(ValueError):
        datasets.region_prefix("3201001")


def test_the_example_notebook_runs(app, year):
    """docs/examples/datateams.ipynb, cell by cell, against this registry."""
    from pathlib import Path

    from zhicheng.quality import service as quality
    if app.engine.dialect.name != "sqlite":
        pytest.skip("the notebook's code does not depend on the engine; SQLite runs it once")
    quality.run(app=app, suite="certificates")  # the project exists after a first run
    notebook = json.loads((Path(__file__).parents[2] / "docs" / "examples" / "datateams.ipynb")
                          .read_text(encoding="utf-8"))
    namespace: dict = {}
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            exec("".join(cell["source"]), namespace)  # noqa: S102 (our own example)
    assert namespace["by_region"].to_numpy().sum() == len(namespace["certs"]) > 0
    assert len(namespace["history"]["run_id"].unique()) == 2  # the run above and the Checkpoint's


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_streamed_chunks_write_what_the_whole_frame_does(app, year, fmt, tmp_path):
    """Two rows a chunk (many chunks, a Parquet row group each) write the file one
    chunk does, and what the whole DataFrame holds."""
    import openpyxl
    import pyarrow.parquet as pq

    from zhicheng.datasets import export
    from zhicheng.files import spreadsheets
    for name in datasets.DATASETS:
        whole = export.export(app=app, name=name, fmt=fmt, out=tmp_path / f"whole-{name}.{fmt}",
                              chunk_rows=1_000_000)
        streamed = export.export(app=app, name=name, fmt=fmt, out=tmp_path / f"streamed-{name}.{fmt}",
                                 chunk_rows=2)
        assert streamed["rows"] == whole["rows"] == year[name] > 2, name
        df = datasets.frame(name, app=app)
        if fmt == "csv":
            frame_csv = spreadsheets.write_csv(
                tmp_path / f"frame-{name}.csv", list(df.columns),
                (_plain(r) for r in df.itertuples(index=False, name=None)))
            assert Path(streamed["path"]).read_bytes() == Path(whole["path"]).read_bytes() \
                == frame_csv.read_bytes(), name
        elif fmt == "xlsx":
            sheets = [list(openpyxl.load_workbook(d["path"], read_only=True)[name].values)
                      for d in (whole, streamed)]
            assert sheets[0] == sheets[1] and len(sheets[0]) == len(df) + 1, name
        else:
            assert pq.read_table(streamed["path"]).equals(pq.read_table(whole["path"])), name
            assert pq.ParquetFile(streamed["path"]).num_row_groups == -(-len(df) // 2)
            # pandas reads text back as its string dtype; the values are the frame's
            def values(f):
                return f.astype(object).where(f.notna(), None)
            pd.testing.assert_frame_equal(values(pd.read_parquet(streamed["path"])), values(df))


def test_notebooks_get_a_dataset_chunk_by_chunk(app, year):
    parts = list(datasets.frames("applications", app=app, chunk_rows=3))
    assert len(parts) == -(-year["applications"] // 3) and all(len(p) <= 3 for p in parts)
    assert len({tuple(map(str, p.dtypes)) for p in parts}) == 1     # every chunk typed alike
    whole = datasets.frame("applications", app=app)
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole)
    assert str(whole["application_id"].dtype) == "Int64" and str(whole["submitted_at"].dt.tz) == "Asia/Shanghai"
    assert list(datasets.frames("applications", batch_year=1999, app=app)) == []
    assert list(datasets.frame("applications", batch_year=1999, app=app).columns) == list(whole.columns)


def test_a_notebook_without_an_app_reads_the_workspace_through_the_process_app(app, year, monkeypatch):
    # A notebook calls frame() and friends without an App: each call used to build an
    # engine of its own (and a connection pool, never disposed).
    from zhicheng import bootstrap
    built = []
    real = bootstrap.make_engine
    monkeypatch.setattr(bootstrap, "make_engine", lambda *a, **kw: built.append(a) or real(*a, **kw))
    first = datasets.frame("applications")
    assert len(first) == year["applications"]
    pd.testing.assert_frame_equal(datasets.frame("applications"), first)
    assert list(datasets.empty("decisions").columns) == list(datasets.frame("decisions", app=app).columns)
    assert len(built) <= 1   # the process's App for this database, made on first use


def _plain(row: tuple) -> list:
    """A DataFrame row as the cells of a file, a value at a time: the reference that
    export.rows (a column at a time) must agree with."""
    out = []
    for v in row:
        if v is None or (not isinstance(v, (str, bytes)) and pd.isna(v)):
            out.append(None)
        elif isinstance(v, pd.Timestamp):
            out.append(v.to_pydatetime())
        elif hasattr(v, "item"):   # numpy scalars
            out.append(v.item())
        else:
            out.append(v)
    return out
