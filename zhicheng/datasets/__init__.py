"""The registry as pandas DataFrames, for data teams' notebooks (issue 24).

    from zhicheng import datasets
    apps = datasets.frame("applications", batch_year=2026, region="3201")
    for part in datasets.frames("certificates", chunk_rows=50_000):   # a year in bounded memory
        ...
    history = datasets.quality_history()          # failed rows by check and run
    ctx = datasets.gx_context()                   # the workspace's GX project

The datasets are applications, decisions, certificates and deliveries (DATASETS), one
row each, with what a team joins them by (application id, submission id, certificate
number, batch year, region). The settings are those of the `zhicheng` command
(ZHICHENG_HOME, ZHICHENG_DATABASE_URL, ...), or pass `app=`.

Personal data (ID numbers, phone numbers, e-mail; zhicheng.domain.privacy) is masked
unless `unmasked=True` where the deployment grants it (ZHICHENG_EXPORT_UNMASKED=true,
set by the registry's administrators, never on a data team's machine); reasons typed
by officers have the applicant's own numbers masked the same way. Times are
Asia/Shanghai. `zhicheng export` writes the same frames to CSV, XLSX or Parquet.

`frames` streams a dataset from the database (a server-side cursor on PostgreSQL) as
DataFrames of at most `chunk_rows` rows, so a year of a province never has to fit in
memory; `frame` is their concatenation. Every chunk has the same columns and dtypes,
taken from the columns' SQL types, not guessed from the chunk's values: integers are
pandas' nullable `Int64`, booleans `boolean`, times `datetime64[ns, Asia/Shanghai]`,
dates and text Python objects (`None` where empty).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from zhicheng.db.models import Applicant, Application, Employer, OutboxItem
from zhicheng.domain.privacy import PERSONAL_FIELDS, mask_field, redact
from zhicheng.issuance.models import Certificate
from zhicheng.review.models import Decision


class NotAllowed(PermissionError):
    """Unmasked personal data asked for where the deployment does not grant it."""


@dataclass(frozen=True)
class Dataset:
    name: str
    description: str
    select: Callable[[], sa.Select]
    year: Callable[[], Any]        # the column a batch year filters
    region: Callable[[], Any]      # the GB/T 2260 code column a region filters


def _applications() -> sa.Select:
    a, p, e = Application, Applicant, Employer
    return (sa.select(a.id.label("application_id"), a.submission_id, a.batch_year, a.region_code,
                      a.status, a.stage, a.track, a.series, a.level, a.specialty,
                      a.qualification_name, a.committee_id, a.reporting_level, a.submitted_at,
                      p.name, p.gender, p.id_number, p.phone, p.email,
                      e.uscc.label("employer_uscc"), a.employer_name, a.employer_nature)
            .outerjoin(p, p.id == a.applicant_id).outerjoin(e, e.id == a.employer_id)
            .order_by(a.id))


def _decisions() -> sa.Select:
    a, d, p = Application, Decision, Applicant
    return (sa.select(d.id.label("decision_id"), d.application_id, a.submission_id, a.batch_year,
                      a.region_code, d.revision, d.stage_index, d.stage, d.action, d.office,
                      d.reason, d.decided_at, d.recorded_at,
                      p.id_number.label("_id_number"), p.phone.label("_phone"))
            .join(a, a.id == d.application_id).outerjoin(p, p.id == a.applicant_id)
            .order_by(d.id))


def _certificates() -> sa.Select:
    c, a = Certificate, Application
    return (sa.select(c.certificate_no, c.version, c.application_id, a.batch_year, c.holder_name,
                      c.holder_id_number, c.holder_gender, c.qualification_name, c.series,
                      c.specialty, c.level, c.obtained_by, c.committee_name, c.approved_on,
                      c.issued_on, c.issuer, c.issuer_region_code, c.filed_with_province,
                      c.status, c.replaces, c.revoked_at, c.revoke_reason)
            .outerjoin(a, a.id == c.application_id).order_by(c.certificate_no))


def _deliveries() -> sa.Select:
    # A delivery of a certificate is keyed "<certificate_no>:v<version>..." (zhicheng.issuance.service)
    o, c, a = OutboxItem, Certificate, Application
    return (sa.select(o.id.label("outbox_id"), o.target, o.kind, o.status, o.attempts,
                      o.created_at, o.sent_at, o.last_error, c.certificate_no, a.batch_year,
                      c.issuer_region_code)
            .outerjoin(c, o.dedupe_key.like(c.certificate_no + ":%"))
            .outerjoin(a, a.id == c.application_id).order_by(o.id))


DATASETS: dict[str, Dataset] = {d.name: d for d in (
    Dataset("applications", "申报：每件一行，含申报人（身份证号、电话、邮箱默认脱敏）和单位",
            _applications, lambda: Application.batch_year, lambda: Application.region_code),
    Dataset("decisions", "审核决定：每个决定一行（理由中的申报人号码脱敏）",
            _decisions, lambda: Application.batch_year, lambda: Application.region_code),
    Dataset("certificates", "证书：每张一行（持证人身份证号默认脱敏）；年度为申报的批次年度",
            _certificates, lambda: Application.batch_year, lambda: Certificate.issuer_region_code),
    Dataset("deliveries", "推送：待发送记录每条一行；证书推送带证书编号、年度和发证地区",
            _deliveries, lambda: Application.batch_year, lambda: Certificate.issuer_region_code),
)}


def region_prefix(code: str) -> str:
    """A GB/T 2260 code as the prefix of the codes inside it: 320000 -> 32, 320100 -> 3201,
    3201 -> 3201, 320102 -> 320102."""
    code = code.strip()
    if not code.isdigit() or len(code) not in (2, 4, 6):
        raise ValueError(f"region {code!r} is not a GB/T 2260 code (2, 4 or 6 digits)")
    while len(code) > 2 and code.endswith("00"):
        code = code[:-2]
    return code


def query(name: str, *, batch_year: int | None = None, region: str | None = None) -> sa.Select:
    if name not in DATASETS:
        raise KeyError(f"unknown dataset {name!r}; one of {', '.join(DATASETS)}")
    ds = DATASETS[name]
    q = ds.select()
    if batch_year is not None:
        q = q.where(ds.year() == int(batch_year))
    if region is not None:
        q = q.where(ds.region().like(region_prefix(region) + "%"))
    return q


def frames(name: str, *, batch_year: int | None = None, region: str | None = None,
           unmasked: bool = False, app=None, chunk_rows: int | None = None) -> Iterator[Any]:
    """One dataset as DataFrames of at most `chunk_rows` rows (default: policy.yaml
    `chunks.export`), in the dataset's order, streamed from the database; none when it
    has no rows. See the module's docstring."""
    app = app or _default_app()
    if unmasked and not app.settings.export_unmasked:
        raise NotAllowed("unmasked personal data is not granted here: the deployment must set "
                         "ZHICHENG_EXPORT_UNMASKED=true (docs/quality.md, docs/privacy.md)")
    size = int(chunk_rows or app.config.policy.chunks.export)
    q = query(name, batch_year=batch_year, region=region)
    with app.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=size).execute(q)
        columns = list(result.keys())
        for part in result.partitions(size):  # an explicit size: without one, SQLAlchemy buffers more
            yield _typed(q, [_shown(dict(zip(columns, r, strict=True)), unmasked) for r in part], app)


def frame(name: str, *, batch_year: int | None = None, region: str | None = None,
          unmasked: bool = False, app=None):
    """One dataset as one DataFrame (the chunks of `frames`, concatenated)."""
    import pandas as pd
    app = app or _default_app()
    parts = list(frames(name, batch_year=batch_year, region=region, unmasked=unmasked, app=app))
    if not parts:
        return empty(name, app=app)
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def empty(name: str, *, app=None):
    """The dataset's columns and dtypes without a row."""
    return _typed(query(name), [], app or _default_app())


def columns(name: str) -> list[tuple[str, Any]]:
    """The dataset's columns as shown (name, SQL type), in order."""
    q = query(name)
    return [(c.name, _impl(c.type)) for c in q.selected_columns if not c.name.startswith("_")]


def _impl(type_: Any) -> Any:
    return getattr(type_, "impl", type_)


def _typed(q: sa.Select, rows: list[dict[str, Any]], app):
    """Rows as a DataFrame whose dtypes follow the SQL types, whatever these rows hold."""
    import pandas as pd
    shown = [(c.name, _impl(c.type)) for c in q.selected_columns if not c.name.startswith("_")]
    df = pd.DataFrame(rows, columns=[n for n, _ in shown])
    for column, type_ in shown:
        if isinstance(type_, sa.DateTime):
            df[column] = pd.to_datetime(df[column], utc=True).dt.tz_convert(app.settings.timezone)
        elif isinstance(type_, sa.Boolean):
            df[column] = df[column].astype("boolean")
        elif isinstance(type_, sa.Integer):
            df[column] = df[column].astype("Int64")
        else:
            df[column] = df[column].astype(object).where(df[column].notna(), None)
    return df


def _shown(row: dict[str, Any], unmasked: bool) -> dict[str, Any]:
    if unmasked:
        return row
    if row.get("reason"):
        row["reason"] = redact(row["reason"], id_number=row.get("_id_number"), phone=row.get("_phone"))
    return {k: mask_field(k, v) if k in PERSONAL_FIELDS else v for k, v in row.items()}


def quality_history(*, suite: str | None = None, app=None):
    """Every quality run's results, one row per check and run (failed rows, rows checked)."""
    from zhicheng.expectations import history
    return history.frame(app or _default_app(), suite=suite)


def gx_context(app=None):
    """The workspace's great-expectations project, zhicheng's expectations registered."""
    from zhicheng.expectations import project
    return project.open_project((app or _default_app()).settings.home)


def _default_app():
    from zhicheng.bootstrap import app_at
    return app_at()
