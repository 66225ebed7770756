"""The registry as pandas DataFrames, for data teams' notebooks (issue 24).

    from zhicheng import datasets
    apps = datasets.frame("applications", batch_year=2026, region="3201")
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
"""
from __future__ import annotations

from collections.abc import Callable
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


def frame(name: str, *, batch_year: int | None = None, region: str | None = None,
          unmasked: bool = False, app=None):
    """One dataset as a DataFrame (see the module's docstring)."""
    import pandas as pd
    app = app or _default_app()
    if unmasked and not app.settings.export_unmasked:
        raise NotAllowed("unmasked personal data is not granted here: the deployment must set "
                         "ZHICHENG_EXPORT_UNMASKED=true (docs/quality.md, docs/privacy.md)")
    q = query(name, batch_year=batch_year, region=region)
    with app.engine.connect() as conn:
        result = conn.execute(q)
        columns = list(result.keys())
        rows = [dict(zip(columns, r)) for r in result]
    rows = [_shown(r, unmasked) for r in rows]
    shown = [c for c in columns if not c.startswith("_")]
    df = pd.DataFrame(rows, columns=shown)
    for column, type_ in zip(columns, (c.type for c in q.selected_columns)):
        if column in shown and isinstance(getattr(type_, "impl", type_), sa.DateTime):
            df[column] = pd.to_datetime(df[column], utc=True).dt.tz_convert(app.settings.timezone)
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
    from zhicheng.bootstrap import build_app
    return build_app()
