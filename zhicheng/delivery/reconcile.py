"""Reconciling the local registry with the province, scope by scope (issuer region, year).

A scope is first compared by counts (the province's page total against ours); where
they differ, or when asked (`full`), record by record: the newest local version of each
certificate, as the record the province should hold, against what it holds. Missing and
stale records are queued again under a fresh dedupe key, so the next push sends them;
extra and different ones are reported for a human (the province cannot be told to
forget a record, and a different record of the same version is a version conflict).

Some certificates belong to no scope of ours, because the province holds the rest of
their scope: a former platform's certificate that entered our registry only to be
revoked by a 补办/换发, and a 历史登记's historic certificate, registered as it was. Those,
and every certificate a 补办/换发 replaced, are checked on their own, by number
(`check_by_number`): each must be there at the version we sent (a replaced one,
revoked). Comparing their scopes would report the rest of a former platform's year as
extra.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import and_, extract, func, select
from sqlalchemy.orm import Session

from zhicheng import outbox
from zhicheng.clock import local
from zhicheng.db.models import Application, OutboxItem
from zhicheng.delivery.service import RECORD_NO, RECORD_VERSION, PROVINCE, in_slices
from zhicheng.domain.delivery import reconcile as compare
from zhicheng.domain.lineage import HISTORY_TRACK
from zhicheng.files.cjk_documents import write_xlsx
from zhicheng.issuance.models import Certificate, IssuanceRun
from zhicheng.issuance.service import province_record

PROBLEM_WORDS = {"missing": "省平台缺少", "extra": "省平台多出", "stale": "省平台版本较旧", "different": "内容不一致"}


@dataclass
class ScopeResult:
    region: str
    year: int
    local: int
    remote: int
    compared: bool = False                      # record by record
    rows: list[dict[str, Any]] = field(default_factory=list)
    requeued: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


BY_NUMBER_SCOPE = ("*", 0)   # the scope of check_by_number in summaries and the report


def _replaced():
    return Certificate.certificate_no.in_(select(Certificate.replaces).where(Certificate.replaces.is_not(None)))


def _registered():
    """A 历史登记's historic certificate, registered as it was."""
    return Certificate.application_id.in_(select(Application.id).where(Application.track == HISTORY_TRACK))


def _by_number():
    """Certificates of scopes not ours: a former platform's, held only to revoke it (a
    补办/换发 replaced it), and a 历史登记's historic certificate."""
    return (Certificate.issuance_run_id.is_(None) & _replaced()) | _registered()


def scopes(*, session: Session, batch_year: int | None = None) -> list[tuple[str, int]]:
    """(issuer region, year issued) of the certificates of a batch year, or of all."""
    year = extract("year", Certificate.issued_on)
    q = select(Certificate.issuer_region_code, year).distinct().where(~_by_number())
    if batch_year is not None:
        q = q.join(Application, Application.id == Certificate.application_id).where(
            Application.batch_year == batch_year)
    return sorted((r, int(y)) for r, y in session.execute(q))


def _in_scope(region: str, year: int):
    return and_(Certificate.issuer_region_code == region, ~_by_number(),
                Certificate.issued_on >= dt.date(year, 1, 1), Certificate.issued_on <= dt.date(year, 12, 31))


def local_count(*, session: Session, region: str, year: int) -> int:
    return session.scalar(select(func.count()).select_from(Certificate).where(_in_scope(region, year))) or 0


def local_records(*, session: Session, region: str, year: int) -> dict[str, dict[str, Any]]:
    """The newest version of each certificate of the scope, as its province record."""
    rows = session.execute(select(Certificate, IssuanceRun.merkle_root)
                           .outerjoin(IssuanceRun, IssuanceRun.id == Certificate.issuance_run_id)
                           .where(_in_scope(region, year)))
    return {c.certificate_no: province_record(c, root if c.document_sha256 else None) for c, root in rows}


def check_scope(*, session: Session, client: Any, region: str, year: int, full: bool,
                now: dt.datetime) -> ScopeResult:
    """Compare one scope and queue again what the province lacks; the caller commits."""
    _, total = client.page(issuer_region_code=region, year=year, page=1, page_size=1)
    result = ScopeResult(region, year, local_count(session=session, region=region, year=year), total)
    if result.local == result.remote and not full:
        return result
    result.compared = True
    local = local_records(session=session, region=region, year=year)
    remote = {r["certificate_no"]: r for r in client.all(issuer_region_code=region, year=year)}
    found = compare(local, remote)
    result.rows = [{**row, "issuer_region_code": region, "year": year} for row in found.rows()]
    result.requeued = requeue(session=session, records=[local[no] for no in found.missing + found.stale], now=now)
    return result


def sent_record(*, session: Session, cert: Certificate) -> dict[str, Any]:
    """What we last sent the province for this certificate: the outbox item of its
    version (a former platform's record goes back as the province held it), else the
    record as our registry makes it."""
    sent = session.scalar(select(OutboxItem.payload).where(
        OutboxItem.target == PROVINCE, OutboxItem.dedupe_key == f"{cert.certificate_no}:v{cert.version}"))
    if sent:
        return sent
    run = session.get(IssuanceRun, cert.issuance_run_id) if cert.issuance_run_id and cert.document_sha256 else None
    root = run.merkle_root if run is not None else None
    return province_record(cert, root)


def check_by_number(*, session: Session, client: Any, now: dt.datetime) -> ScopeResult:
    """Every certificate a 补办/换发 replaced, and every 历史登记's, looked up by number:
    there at the version we sent (a replaced one, revoked), whatever its issuer or year.
    Missing or stale: queued again."""
    certs = session.scalars(select(Certificate).where(_replaced() | _registered())
                            .order_by(Certificate.certificate_no)).all()
    local = {c.certificate_no: sent_record(session=session, cert=c) for c in certs}
    remote = {}
    for no in local:
        held = client.get(no)
        if held is not None:
            remote[no] = held
    result = ScopeResult(*BY_NUMBER_SCOPE, local=len(local), remote=len(remote), compared=True)
    found = compare(local, remote)
    result.rows = [{**row, "issuer_region_code": local[row["certificate_no"]]["issuer_region_code"],
                    "year": int(str(local[row["certificate_no"]]["issued_on"])[:4])} for row in found.rows()]
    result.requeued = requeue(session=session, records=[local[no] for no in found.missing + found.stale], now=now)
    return result


def requeue(*, session: Session, records: list[dict[str, Any]], now: dt.datetime) -> list[str]:
    """Queue these records again (fresh dedupe keys), unless the same version is queued."""
    queued: set[tuple[str, int]] = set()
    for part in in_slices([r["certificate_no"] for r in records]):
        queued.update(session.execute(select(RECORD_NO, RECORD_VERSION).where(
            OutboxItem.target == PROVINCE, OutboxItem.status == "pending", RECORD_NO.in_(part))).tuples().all())
    stamp = local(now).strftime("%Y%m%dT%H%M%S")
    done = []
    for rec in records:
        if (rec["certificate_no"], rec["version"]) in queued:
            continue
        outbox.enqueue(session=session, target=PROVINCE, kind="certificate", payload=rec, now=now,
                       dedupe_key=f"{rec['certificate_no']}:v{rec['version']}:reconcile-{stamp}")
        done.append(rec["certificate_no"])
    return done


def summarize(results: list[dict[str, Any]], *, batch_year: int | None, full: bool) -> dict[str, Any]:
    rows = [row for r in results for row in r["rows"]]
    counts = {p: sum(1 for row in rows if row["problem"] == p) for p in PROBLEM_WORDS}
    return {"batch_year": batch_year, "full": full, "scopes": [{k: v for k, v in r.items() if k != "rows"}
                                                                 for r in results],
            "differences": counts, "rows": rows, "clean": not rows,
            "requeued": sum(len(r["requeued"]) for r in results)}


def write_report(summary: dict[str, Any], *, reports_dir: Path, now: dt.datetime) -> Path:
    """The XLSX for staff: every difference, and the scopes with both counts."""
    now = local(now)
    name = f"reconcile-{summary['batch_year'] or 'all'}-{now:%Y%m%d-%H%M%S}.xlsx"
    scope_rows = [[*((s["region"], s["year"]) if (s["region"], s["year"]) != BY_NUMBER_SCOPE
                     else ("按编号核对（被取代的证书、历史登记）", "各年度")),
                   s["local"], s["remote"], "是" if s["compared"] else "否", len(s["requeued"])]
                  for s in summary["scopes"]]
    c = summary["differences"]
    lines = [f"核对时间：{now.isoformat(timespec='seconds')}",
             f"范围：{summary['batch_year'] or '全部'}年度，{len(summary['scopes'])} 个发证机关/年度" +
             ("（逐条核对）" if summary["full"] else ""),
             "差异：" + "，".join(f"{PROBLEM_WORDS[p]} {n}" for p, n in c.items()) +
             f"；已重新排队推送 {summary['requeued']} 条"]
    return write_xlsx(reports_dir / name, title="证书数据核对报告（本地证书库 / 省一体化平台）", header_lines=lines,
                      columns=["证书编号", "发证机关地区", "年度", "问题", "说明"],
                      rows=[[r["certificate_no"], r["issuer_region_code"], r["year"],
                             PROBLEM_WORDS[r["problem"]], r["detail"]] for r in summary["rows"]],
                      sheet="差异", extra={"范围": (["发证机关地区", "年度", "本地条数", "省平台条数", "逐条核对",
                                                   "重新排队"], scope_rows)})
