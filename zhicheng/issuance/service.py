"""Issuing certificates (电子证书): chunk by chunk, exactly once.

One chunk is one transaction and one IssuanceRun: it locks its applications, allocates
gapless serials (SerialCounter rows locked FOR UPDATE, in a fixed order), renders and
signs the PDFs, writes them (atomically) before the commit, computes the run's Merkle
root, and in the same transaction inserts the certificates, revokes what they replace,
records the decisions, sets the applications' status and enqueues the province records
and the hall notifications. Rolled back, it leaves nothing but files the next run
sweeps; committed, it never runs again for those applications (they are no longer
`approved`, and one certificate per application and version is a unique constraint).
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import exists, func, null, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from zhicheng import outbox
from zhicheng.clock import local_date
from zhicheng.config import Config
from zhicheng.config.files import CertificatesFile
from zhicheng.db.batches import insert_rows
from zhicheng.db.models import Applicant, Application, ApplicationRevision, Material
from zhicheng.domain import lineage
from zhicheng.domain.application_status import ApplicationStatus
from zhicheng.domain.certificate_numbers import make_number, verification_code
from zhicheng.domain.merkle import merkle_tree
from zhicheng.domain.review import IllegalMove
from zhicheng.education import service as education
from zhicheng.errors import BadValue
from zhicheng.issuance import files
from zhicheng.issuance import lifecycle
from zhicheng.issuance.keys import KeyStore
from zhicheng.issuance.models import Certificate, IssuanceRun, SerialCounter
from zhicheng.issuance.pdf import CertificateContent, seal
from zhicheng.issuance.render import RenderPool
from zhicheng.publicity.models import PublicityEntry, PublicityWindow
from zhicheng.review import service as review
from zhicheng.review.models import Decision

READY_KINDS = ("filing", "issue", "register")
REISSUE_TRACKS = ("补办", "换发")
REGISTER_TRACK = "历史登记"
OBTAINED_BY = {"评审": "评审", "初定": "初定", "历史登记": "历史登记"}
SYSTEM_ACTOR = "system"
_LABELS = {"qualification_name": "资格名称", "series": "系列", "specialty": "专业"}


class NotIssuable(ValueError):
    """An approved application lacks what its certificate needs; it stays approved."""


@dataclass
class Issuer:
    name: str
    region_code: str
    delegated: bool
    office: str  # who records the issue decision


@dataclass
class IssueContext:
    """What every chunk needs besides its session: built once per process."""

    config: Config
    home: Path
    keystore: KeyStore
    renderer: RenderPool
    settings: CertificatesFile

    @classmethod
    def for_app(cls, app) -> "IssueContext":
        settings = app.config.certificates
        return cls(config=app.config, home=Path(app.settings.home),
                   keystore=KeyStore.for_home(app.settings.home), renderer=RenderPool(settings),
                   settings=settings)


@dataclass
class ChunkResult:
    run_id: int | None = None
    merkle_root: str | None = None
    issued: list[str] = field(default_factory=list)
    registered: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)      # locked by another worker, or done
    problems: list[dict[str, Any]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "merkle_root": self.merkle_root, "issued": len(self.issued),
                "registered": len(self.registered), "revoked": len(self.revoked),
                "skipped": len(self.skipped), "problems": self.problems}


# -- which applications ------------------------------------------------------------

def eligible_application_ids(*, session: Session, config: Config, batch_year: int | None = None,
                             committee: str | None = None, issuer: str | None = None) -> list[int]:
    """Approved applications at a filing/issue/register stage with no publicity still open,
    in id order; `issuer`: only those whose certificate that issuer numbers (issuer_code)."""
    return [a.id for a in _eligible(session=session, config=config, batch_year=batch_year, committee=committee)
            if issuer is None or issuer_code(a, config) == issuer]


def eligible_issuers(*, session: Session, config: Config, batch_year: int | None = None) -> list[str]:
    """The issuers (issuer_code) of the eligible applications: what runs split by
    issuer cover between them."""
    return sorted({issuer_code(a, config) for a in _eligible(session=session, config=config,
                                                             batch_year=batch_year, committee=None)})


# The issuer code of applications no issuer is configured for: their run lists each as a problem.
NO_ISSUER = "-"


def issuer_code(app: Any, config: Config) -> str:
    """The region code of the issuer whose serial counter numbers `app`'s certificate
    (an Application or a row of its committee_id and region_code), else NO_ISSUER.
    Runs split by it never share a counter."""
    try:
        return resolve_issuer(app, config).region_code
    except NotIssuable:
        return NO_ISSUER


class UnknownIssuer(BadValue):
    """An issuer code no committee and no title office of committees.yaml numbers under."""


def require_issuer(config: Config, issuer: str | None) -> None:
    """Refuse an issuer code that numbers nothing (None: every issuer): a run given a
    misspelt code would otherwise issue nothing and say it is done."""
    known = {c.region_code for c in config.committees.values()} | set(config.title_offices) | {NO_ISSUER}
    if issuer is not None and issuer not in known:
        raise UnknownIssuer(f"issuer {issuer!r} is neither the region code of a committee or title office "
                            f"in config/committees.yaml nor {NO_ISSUER!r} (applications no issuer covers)")


def _eligible(*, session: Session, config: Config, batch_year: int | None,
              committee: str | None) -> list[Any]:
    open_window = exists().where(PublicityEntry.application_id == Application.id,
                                 PublicityEntry.window_id == PublicityWindow.id,
                                 PublicityWindow.status == "open")
    q = select(Application.id, Application.stage, Application.committee_id, Application.region_code).where(
        Application.status == ApplicationStatus.APPROVED, ~open_window)
    if batch_year is not None:
        q = q.where(Application.batch_year == batch_year)
    if committee:
        q = q.where(Application.committee_id == committee)
    return [a for a in session.execute(q.order_by(Application.id)) if _ready_stage(config, a.stage)]


def _ready_stage(config: Config, stage: str | None) -> bool:
    if stage is None:
        return True
    try:
        return config.chains.kind(stage) in READY_KINDS
    except Exception:  # a stage config does not know: not ours to issue
        return False


# -- one chunk ---------------------------------------------------------------------

def issue_chunk(*, session: Session, ctx: IssueContext, application_ids: Sequence[int],
                now: dt.datetime) -> ChunkResult:
    """Issue (or register) the certificates of these applications in this transaction.

    The caller commits. Files are written before returning; see module doc."""
    result = ChunkResult()
    apps = _lock_applications(session=session, ids=application_ids)
    result.skipped = sorted(set(application_ids) - {a.id for a in apps})
    apps = _drop_already_done(session=session, apps=apps, result=result)
    if not apps:
        return result
    issued_on = local_date(now)
    data = _load(session=session, apps=apps)
    drafts, replacing = [], set()
    for app in apps:
        try:
            draft = _draft(app, data, ctx.config, issued_on)
            if draft.replaces in replacing:  # one prior, one successor: never two valid
                raise NotIssuable(f"原证书{draft.replaces}已由本批另一件办件补办（换发）")
            if draft.replaces:
                replacing.add(draft.replaces)
            drafts.append(draft)
        except NotIssuable as exc:
            result.problems.append({"application_id": app.id, "problem": str(exc)})
    drafts = _assign_numbers(session=session, drafts=drafts, result=result)
    if not drafts:
        return result
    documents = _render(ctx, drafts, now)
    root, proofs = merkle_tree([d.fields["document_sha256"] for d in documents])
    for d, proof in zip(documents, proofs, strict=True):
        d.fields["merkle_proof"] = proof
    with files.Writing(_files(ctx, documents, result)) as writing:   # while the rows go in
        run = _write_rows(session=session, ctx=ctx, drafts=drafts, merkle_root=root if documents else None,
                          now=now, result=result)
        writing.wait()
    result.run_id, result.merkle_root = run.id, run.merkle_root
    _before_commit(session=session, result=result)
    return result


def _before_commit(*, session: Session, result: ChunkResult) -> None:
    """A seam for tests that simulate a crash after the files are written."""


def _write_rows(*, session: Session, ctx: IssueContext, drafts: list[_Draft], merkle_root: str | None,
                now: dt.datetime, result: ChunkResult) -> IssuanceRun:
    """The chunk's rows: its run, decisions, certificates (one INSERT), revocations,
    applications and outbox items."""
    # written whole, once: issuance_runs is append-only (zhicheng.db.audit)
    run = IssuanceRun(started_at=now, finished_at=now, merkle_root=merkle_root, certificates=len(drafts))
    session.add(run)
    session.flush()
    _record_decisions(session=session, drafts=drafts, config=ctx.config, now=now)
    rows: list[dict[str, Any]] = []
    notices: list[dict[str, Any]] = []
    for d in drafts:
        rows.append(_store(session=session, ctx=ctx, d=d, run=run, now=now, result=result, notices=notices))
    insert_rows(session=session, model=Certificate, rows=rows)
    outbox.enqueue_many(session=session, items=notices, now=now)
    session.flush()  # one flush: the applications' changes go out in multi-row statements
    return run


def _lock_applications(*, session: Session, ids: Sequence[int]) -> list[Application]:
    # SKIP LOCKED: two workers given the same chunk split it instead of waiting (PostgreSQL;
    # SQLite ignores the clause and takes its one writer's lock instead).
    if session.get_bind().dialect.name == "sqlite":
        _take_sqlite_write_lock(session=session)
    q = (select(Application).where(Application.id.in_(list(ids)), Application.status == ApplicationStatus.APPROVED)
         .order_by(Application.id).with_for_update(skip_locked=True))
    return list(session.scalars(q))


def _take_sqlite_write_lock(*, session: Session) -> None:
    """SQLite has no row locks, and pysqlite begins a transaction only at the first
    write: the reads of a chunk would see applications another worker is issuing that
    moment, and the second certificate of one application would fail the chunk on the
    unique (application_id, version). BEGIN IMMEDIATE takes the writer's lock before the
    first read, waiting (busy timeout) while another chunk commits."""
    connection = session.connection()
    dbapi = connection.connection.dbapi_connection
    assert dbapi is not None, "session.connection() checked one out"
    if not dbapi.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _drop_already_done(*, session: Session, apps: list[Application], result: ChunkResult) -> list[Application]:
    done = set(session.scalars(select(Certificate.application_id)
                               .where(Certificate.application_id.in_([a.id for a in apps]))))
    for a in apps:
        if a.id in done:  # belt and braces: a certificate exists, so the status follows it
            a.status = ApplicationStatus.REGISTERED if a.track == REGISTER_TRACK else ApplicationStatus.ISSUED
            result.skipped.append(a.id)
    return [a for a in apps if a.id not in done]


@dataclass
class _Data:
    applicants: dict[int, Applicant]
    payloads: dict[int, dict]
    approved_on: dict[int, dt.datetime]
    photos: dict[int, str]
    priors: dict[str, Certificate]
    found: dict[int, dict[str, Any]]   # the record each 补办/换发 looked up (the province's)
    unverified: set[int] = field(default_factory=set)   # education not settled by 学信 yet


def _load(*, session: Session, apps: list[Application]) -> _Data:
    ids = [a.id for a in apps]
    applicants = {p.id: p for p in session.scalars(
        select(Applicant).where(Applicant.id.in_({a.applicant_id for a in apps if a.applicant_id})))}
    payloads = {}
    for a_id, payload in session.execute(
            select(ApplicationRevision.application_id, ApplicationRevision.payload)
            .join(Application, Application.id == ApplicationRevision.application_id)
            .where(ApplicationRevision.application_id.in_(ids),
                   ApplicationRevision.revision == Application.current_revision)):
        payloads[a_id] = payload or {}
    approved_on = dict(session.execute(
        select(Decision.application_id, func.max(Decision.decided_at))
        .where(Decision.application_id.in_(ids), Decision.action == "approve")
        .group_by(Decision.application_id)).tuples().all())
    photos = {}
    for a_id, path in session.execute(
            select(Material.application_id, Material.storage_path)
            .where(Material.application_id.in_(ids), Material.type == "photo",
                   Material.storage_path.is_not(None)).order_by(Material.revision)):
        photos[a_id] = path  # the latest revision wins
    prior_nos = {str(p.get("prior_certificate_no")) for p in payloads.values()
                 if p.get("prior_certificate_no")}
    priors = {c.certificate_no: c for c in session.scalars(
        select(Certificate).where(Certificate.certificate_no.in_(prior_nos)))} if prior_nos else {}
    reissues = [a.id for a in apps if a.track in REISSUE_TRACKS]
    found = lifecycle.found_records(session=session, application_ids=reissues) if reissues else {}
    unverified = education.unverified(session=session, applications=apps, payloads=payloads)
    return _Data(applicants, payloads, approved_on, photos, priors, found, unverified)


@dataclass
class _Draft:
    app: Application
    fields: dict[str, Any]
    level_digit: int
    register_only: bool
    prior: Certificate | None
    office: str
    photo_path: str | None
    number_given: str | None = None  # 历史登记: the historic number, in whatever format
    pdf: bytes | None = None
    prior_record: dict[str, Any] | None = None  # a former platform's, as the province holds it

    @property
    def replaces(self) -> str | None:
        return self.fields.get("replaces")


def _draft(app: Application, data: _Data, config: Config, issued_on: dt.date) -> _Draft:
    person = data.applicants.get(app.applicant_id) if app.applicant_id is not None else None
    if person is None:
        raise NotIssuable("办件没有申报人信息，无法制证")
    if app.id in data.unverified:   # never waits on 学信: the hourly education sync settles it
        raise NotIssuable("学历学位尚未经学信网核验（学信核验办件后，下次发证时再发）")
    payload = data.payloads.get(app.id, {})
    prior, prior_record, origin = None, None, {}
    if app.track in REISSUE_TRACKS:
        prior, prior_record = _prior(app, payload, data)
        if prior is not None:
            origin = lineage.successor_origin(province_record(prior, None))
        else:
            assert prior_record is not None, "_prior returns our certificate or the province's record"
            origin = lineage.successor_origin(prior_record)
    history = lineage.historic_fields(payload) if app.track == REGISTER_TRACK else {}
    level = origin.get("level") or app.level
    if level not in config.policy.levels:
        raise NotIssuable(f"级别“{level}”不在 policy.yaml levels 中，无法编号")
    issuer = resolve_issuer(app, config)
    decided = data.approved_on.get(app.id)
    committee = config.committees.get(app.committee_id) if app.committee_id else None
    fields = dict(
        version=1, application_id=app.id, holder_name=person.name,
        holder_id_number=person.id_number, holder_gender=person.gender,
        qualification_name=origin.get("qualification_name") or app.qualification_name or "",
        series=origin.get("series") or app.series or "",
        specialty=origin.get("specialty") or app.specialty or "", level=level,
        obtained_by=origin.get("obtained_by") or OBTAINED_BY.get(app.track or "", "认定"),
        committee_name=committee.name if committee else None,
        approved_on=local_date(decided) if decided else issued_on, issued_on=issued_on,
        issuer=issuer.name, issuer_region_code=issuer.region_code,
        filed_with_province=issuer.delegated, status="valid",
        replaces=lineage.looked_up_number(payload) if app.track in REISSUE_TRACKS else None)
    if origin:  # the title keeps its origin: how, when and by whom it was granted
        fields.update(committee_name=origin["committee_name"],
                      approved_on=origin["approved_on"] or fields["approved_on"])
    fields.update({k: v for k, v in history.items() if k != "certificate_no"})
    for name in ("qualification_name", "series", "specialty"):
        if not fields[name]:
            raise NotIssuable(f"办件缺少{_LABELS[name]}，无法制证")
    given = history.get("certificate_no")
    if given and len(given) > lineage.MAX_NUMBER_LENGTH:
        raise NotIssuable(f"历史证书编号“{given}”超过{lineage.MAX_NUMBER_LENGTH}个字符，无法登记")
    return _Draft(app=app, fields=fields, level_digit=config.policy.levels[level],
                  register_only=app.track == REGISTER_TRACK, prior=prior, office=issuer.office,
                  photo_path=data.photos.get(app.id), number_given=given, prior_record=prior_record)


def _prior(app: Application, payload: dict, data: _Data) -> tuple[Certificate | None, dict | None]:
    """The certificate a 补办/换发 replaces: ours (we issued or registered it, or replaced
    one of the former platform's before), else the province's record its look-up found.
    Never issued without one: that would leave two valid certificates at the province."""
    number = lineage.looked_up_number(payload)
    if not number:
        raise NotIssuable(f"{app.track}办件缺少原证书编号")
    prior = data.priors.get(number)
    if prior is not None:
        if prior.status != "valid":
            raise NotIssuable(f"原证书{number}已作废（{prior.revoke_reason or '已撤销'}），不能再次{app.track}")
        return prior, None
    record = data.found.get(app.id)
    if not record or record.get("certificate_no") != number:
        raise NotIssuable(f"原证书{number}未经省一体化平台查证，不能{app.track}（请重新校验）")
    if record.get("status") != "valid":
        raise NotIssuable(f"原证书{number}在省一体化平台已作废，不能{app.track}")
    return None, record


def resolve_issuer(app: Application, config: Config) -> Issuer:
    """A delegated committee issues in its own name (and files 备案); otherwise the
    committee's issuing department, or the title office of the employer's city (the
    region this application submitted, never another applicant's word for the employer)."""
    c = config.committees.get(app.committee_id) if app.committee_id else None
    if c is not None:
        return Issuer(c.issuer_name, c.region_code, c.delegated,
                      office=c.name if c.delegated else c.issuer_name)
    region = app.region_code or ""
    for code in (region, region[:4] + "00", region[:2] + "0000"):
        office = config.title_offices.get(code)
        if office is not None:
            return Issuer(office.issuer_name, office.region_code, False, office=office.name)
    raise NotIssuable(f"地区 {region or '（空）'} 没有职称办可以发证（committees.yaml title_offices）")


def _assign_numbers(*, session: Session, drafts: list[_Draft], result: ChunkResult) -> list[_Draft]:
    """Gapless serials per (issuer, year, level), counters locked in sorted order so two
    workers can never deadlock on them. A 历史登记 keeps its number when it is in our
    format and free; a serial a registered historical number already holds is passed
    over (the series stays gapless: that number is in the registry). Returns the drafts
    that got a number; a historical number already registered is that application's
    problem, never the chunk's."""
    given = [d.number_given for d in drafts if d.number_given]
    taken = _existing_numbers(session=session, numbers=given)
    kept: list[_Draft] = []
    wanted: dict[tuple[str, int, int], list[_Draft]] = defaultdict(list)
    for d in drafts:
        if not d.number_given:
            key = (d.fields["issuer_region_code"], d.fields["issued_on"].year, d.level_digit)
            wanted[key].append(d)
        elif d.number_given in taken:
            result.problems.append({"application_id": d.app.id,
                                    "problem": f"证书编号{d.number_given}已登记，不能重复登记"})
            continue
        else:
            taken.add(d.number_given)
            d.fields["certificate_no"] = d.number_given
        kept.append(d)
    for key in sorted(wanted):
        free = _free_numbers(session=session, key=key, count=len(wanted[key]), given=taken)
        for d, no in zip(wanted[key], free, strict=True):
            d.fields["certificate_no"] = no
    return kept


def _existing_numbers(*, session: Session, numbers: Sequence[str]) -> set[str]:
    if not numbers:
        return set()
    return set(session.scalars(select(Certificate.certificate_no)
                               .where(Certificate.certificate_no.in_(list(numbers)))))


def _free_numbers(*, session: Session, key: tuple[str, int, int], count: int,
                  given: set[str]) -> list[str]:
    """`count` numbers of the series, skipping those historical registrations hold."""
    region, year, level_digit = key
    out: list[str] = []
    while len(out) < count:
        need = count - len(out)
        first = allocate_serials(session=session, region=region, year=year, level_digit=level_digit,
                                 count=need)
        candidates = [make_number(*key, serial) for serial in range(first, first + need)]
        held = _existing_numbers(session=session, numbers=candidates) | (given & set(candidates))
        out += [no for no in candidates if no not in held]
    return out


def allocate_serials(*, session: Session, region: str, year: int, level_digit: int,
                     count: int) -> int:
    """Reserve `count` consecutive serials; returns the first. The counter row stays
    locked until the caller's transaction ends, so a rollback gives them back."""
    values = dict(issuer_region_code=region, year=year, level_digit=level_digit, next_serial=1)
    dialect = session.get_bind().dialect.name
    ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(SerialCounter).values(**values)
    session.execute(ins.on_conflict_do_nothing())
    counter = session.scalars(
        select(SerialCounter).where(SerialCounter.issuer_region_code == region,
                                    SerialCounter.year == year,
                                    SerialCounter.level_digit == level_digit)
        .with_for_update().execution_options(populate_existing=True)).one()
    first = counter.next_serial
    counter.next_serial = first + count
    session.flush()
    return first


def _render(ctx: IssueContext, drafts: list[_Draft], now: dt.datetime) -> list[_Draft]:
    """Sign and render every draft that gets a PDF; returns those, in order."""
    auto = ctx.settings.keys.auto_generate
    docs = [d for d in drafts if not d.register_only]
    contents = []
    for d in docs:
        key = ctx.keystore.signing_key(d.fields["issuer_region_code"], auto_generate=auto, now=now)
        no, ver = d.fields["certificate_no"], d.fields["version"]
        d.fields["verification_code"] = verification_code(
            hashlib.sha256(key.sign(f"zhicheng-code:{no}:v{ver}".encode())).digest())
        d.fields["key_id"] = key.key_id
        contents.append(CertificateContent(
            certificate_no=no, version=ver, photo=_photo_bytes(ctx.home, d.photo_path),
            **{k: d.fields[k] for k in ("holder_name", "holder_gender", "holder_id_number",
                                         "qualification_name", "series", "specialty", "level",
                                         "obtained_by", "committee_name", "approved_on",
                                         "issued_on", "issuer", "verification_code")}))
    storage = ctx.settings.storage_dir
    unsealed = ctx.renderer.unsealed(contents, [d.fields["key_id"] for d in docs])
    for d, pdf in zip(docs, unsealed, strict=True):
        d.pdf = seal(pdf, ctx.keystore.signing_key(d.fields["issuer_region_code"]).sign)
        d.fields["document_sha256"] = hashlib.sha256(d.pdf).hexdigest()
        f = d.fields
        f["document_path"] = (f"{storage}/{f['issuer_region_code']}/{f['issued_on'].year}/"
                              f"{f['certificate_no']}-v{f['version']}.pdf")
    return docs


def _photo_bytes(home: Path, path: str | None) -> bytes | None:
    if not path:
        return None
    p = Path(path)
    try:
        return (p if p.is_absolute() else home / p).read_bytes()
    except OSError:
        return None


# A new certificate's row: every column a chunk's INSERT sets, so all rows have one key
# set (a registration has no document, code, key or proof: SQL NULL, not JSON null).
NEW_ROW = {"verification_code": None, "document_path": None, "document_sha256": None, "key_id": None,
           "merkle_proof": null(), "committee_name": None, "holder_gender": None, "replaces": None}


def _store(*, session: Session, ctx: IssueContext, d: _Draft, run: IssuanceRun, now: dt.datetime,
           result: ChunkResult, notices: list[dict[str, Any]]) -> dict[str, Any]:
    """The certificate's row (the chunk inserts them together), after revoking what it
    replaces and setting the application's status; adds its outbox items (the province
    record, the hall notification) to `notices`."""
    cert = {**NEW_ROW, **d.fields, "issuance_run_id": run.id}
    prior, as_held = d.prior, None
    if prior is None and d.prior_record is not None:
        # a former platform's certificate enters our registry to be revoked, as the
        # province holds it (only version and status change in what is sent back)
        prior, as_held = foreign_certificate(d.prior_record), d.prior_record
        session.add(prior)
    if prior is not None and prior.status == "valid":
        revoke(session=session, certificate=prior, now=now, record=as_held,
               reason=f"{d.app.track}：由证书 {cert['certificate_no']} 取代")
        result.revoked.append(prior.certificate_no)
    app = d.app
    app.status = ApplicationStatus.REGISTERED if d.register_only else ApplicationStatus.ISSUED
    # the chunk's clock, not onupdate's now(): a SQL expression would send one UPDATE a
    # row (and SQLite's now() cannot be batched at all); plain values go out together
    app.updated_at = now
    if app.chain:
        app.stage_index, app.stage = len(app.chain) - 1, app.chain[-1]
    (result.registered if d.register_only else result.issued).append(cert["certificate_no"])
    notices += _notices(ctx, cert, app, d.register_only, run.merkle_root)
    return cert


def _notices(ctx: IssueContext, cert: dict[str, Any], app: Application, register_only: bool,
             batch_root: str | None) -> list[dict[str, Any]]:
    """A new certificate's outbox items: its province record and its hall notification."""
    no, version = cert["certificate_no"], cert["version"]
    key = f"{'registered' if register_only else 'issued'}:{no}:v{version}"
    params = {"name": cert["holder_name"], "certificate_no": no,
              "qualification_name": cert["qualification_name"], "issuer": cert["issuer"]}
    if cert["verification_code"]:
        params["verification_code"] = cert["verification_code"]
        params["verification_url"] = ctx.renderer.local.verification_url_for(no, cert["verification_code"])
    params.update(download_addresses(ctx.config, no, app.submission_id,
                                      with_document=bool(cert["document_path"])))
    return [dict(target="province", kind="certificate", dedupe_key=f"{no}:v{version}",
                 payload=record_of(cert, batch_root if cert["document_sha256"] else None)),
            dict(target="hall_notification", kind="certificate_issued", dedupe_key=key,
                 payload={"id_number": cert["holder_id_number"],
                          "template": "passed_review" if register_only else "issued",
                          "params": params, "idempotency_key": key})]


def download_addresses(config: Config, certificate_no: str, submission_id: str | None, *,
                       with_document: bool) -> dict[str, str]:
    """Where the hall fetches, signed, what the applicant downloads (领取): the
    certificate, its preview and the 申报表 (zhicheng web; docs/verification.md)."""
    base = config.web.downloads_url.rstrip("/")
    if not base:
        return {}
    out = {}
    if with_document:
        out["certificate_url"] = f"{base}/certificates/{certificate_no}/document"
        out["preview_url"] = f"{base}/certificates/{certificate_no}/preview"
    if submission_id:
        out["application_form_url"] = f"{base}/applications/{quote(submission_id, safe='')}/form"
    return out


def _files(ctx: IssueContext, docs: list[_Draft], result: ChunkResult) -> list[tuple[Path, bytes]]:
    """The chunk's PDFs to write, each where its row says."""
    out = []
    for d in docs:
        assert d.pdf is not None, "rendered, and not yet written"
        out.append((ctx.home / d.fields["document_path"], d.pdf))
        result.files.append(d.fields["document_path"])
        d.pdf = None  # memory stays flat in the batch size: the writes hold the bytes until written
    return out


def _record_decisions(*, session: Session, drafts: list[_Draft], config: Config,
                      now: dt.datetime) -> None:
    """One approve decision for each remaining stage (备案, then 发证 or 登记) of every
    draft's application, through the review service (one batch for the chunk) where it
    accepts them, else written here the same way, never a second one for a stage
    already decided in this revision (the database refuses that)."""
    wanted = []
    for d in drafts:
        app, chain = d.app, list(d.app.chain or [])
        start = app.stage_index if app.stage_index is not None else max(len(chain) - 1, 0)
        for index in range(start, len(chain)):
            kind = _kind(config, chain[index])
            who = "省职称管理部门" if kind == "filing" else d.office
            reason = {"filing": "备案", "issue": "发证", "register": "登记"}.get(kind or "", "发证")
            wanted.append((index, review.Request(app=app, stage=chain[index], action="approve",
                                                 actor=SYSTEM_ACTOR, office=who, reason=reason,
                                                 decided_at=now)))
    made = review.decide_many(session=session, requests=[r for _, r in wanted], now=now, config=config)
    refused = [isinstance(d, IllegalMove) for d in made]
    decided = _decided(session=session, apps=[d.app for d in drafts]) if any(refused) else set()
    for (index, r), no in zip(wanted, refused, strict=True):
        if no and (r.app.id, index) not in decided:
            # e.g. it does not move past the last stage: we record it ourselves
            session.add(Decision(application_id=r.app.id, revision=r.app.current_revision,
                                 stage_index=index, stage=r.stage, action="approve",
                                 actor=SYSTEM_ACTOR, office=r.office[:128], reason=r.reason,
                                 decided_at=now, recorded_at=now))


def _decided(*, session: Session, apps: list[Application]) -> set[tuple[int, int]]:
    """(application, stage index) already decided in each application's current revision."""
    revision = {a.id: a.current_revision for a in apps}
    rows = session.execute(select(Decision.application_id, Decision.revision, Decision.stage_index)
                           .where(Decision.application_id.in_(list(revision))))
    return {(app_id, index) for app_id, rev, index in rows if rev == revision[app_id]}


def _kind(config: Config, stage: str) -> str | None:
    try:
        return config.chains.kind(stage)
    except Exception:
        return None


# -- records for the province, revocation -----------------------------------------

RECORD_FIELDS = ("certificate_no", "version", "holder_name", "holder_id_number", "qualification_name",
                 "level", "series", "specialty", "obtained_by", "committee_name", "approved_on", "issued_on",
                 "issuer", "issuer_region_code", "filed_with_province", "status", "replaces",
                 "document_sha256")


def province_record(cert: Certificate, batch_root: str | None) -> dict[str, Any]:
    """One CertificateRecord (external-systems.md §3)."""
    return record_of({name: getattr(cert, name) for name in RECORD_FIELDS}, batch_root)


def record_of(cert: dict[str, Any], batch_root: str | None) -> dict[str, Any]:
    """One CertificateRecord of a certificate's column values."""
    record = {name: cert[name] for name in RECORD_FIELDS}
    record.update(approved_on=cert["approved_on"].isoformat(), issued_on=cert["issued_on"].isoformat(),
                  filed_with_province=bool(cert["filed_with_province"]), batch_root=batch_root)
    return record


def foreign_certificate(record: dict[str, Any]) -> Certificate:
    """A certificate we did not issue (the former platform's), from the province's record."""
    return Certificate(
        certificate_no=record["certificate_no"], version=int(record.get("version") or 1),
        application_id=None, holder_name=record["holder_name"],
        holder_id_number=record["holder_id_number"], qualification_name=record["qualification_name"],
        series=record["series"], specialty=record["specialty"], level=record["level"],
        obtained_by=record["obtained_by"], committee_name=record.get("committee_name"),
        approved_on=dt.date.fromisoformat(str(record["approved_on"])),
        issued_on=dt.date.fromisoformat(str(record["issued_on"])), issuer=record["issuer"],
        issuer_region_code=record["issuer_region_code"],
        filed_with_province=bool(record.get("filed_with_province")), status="valid",
        replaces=record.get("replaces"), document_sha256=record.get("document_sha256"))


def revoke(*, session: Session, certificate: Certificate, reason: str, now: dt.datetime,
           record: dict[str, Any] | None = None) -> Certificate:
    """Revocation as a recorded act: status, time and reason on the row (never deleted),
    the record's version raised, and the new version enqueued for the province. `record`:
    the province's own record of a certificate we did not issue, sent back as it was
    but for version and status."""
    if not reason or not reason.strip():
        raise ValueError("revocation needs a reason")
    if certificate.status == "revoked":
        return certificate
    certificate.status = "revoked"
    certificate.revoked_at = now
    certificate.revoke_reason = reason.strip()
    certificate.version += 1
    session.flush()
    root = None
    if certificate.issuance_run_id and certificate.document_sha256:
        run = session.get(IssuanceRun, certificate.issuance_run_id)
        root = run.merkle_root if run else None
    payload = province_record(certificate, root)
    if record is not None:
        payload = {**record, "version": certificate.version, "status": certificate.status}
    outbox.enqueue(session=session, target="province", kind="certificate",
                   dedupe_key=f"{certificate.certificate_no}:v{certificate.version}",
                   payload=payload, now=now)
    return certificate


def issue_batch(*, app, ctx: IssueContext, batch_year: int | None = None,
                committee: str | None = None, chunk_size: int | None = None) -> dict[str, int]:
    """The flow's work without Prefect (benchmarks, crash drills): sweep, plan, chunks."""
    from zhicheng.db.engine import unit_of_work
    with app.sessions() as session:
        files.sweep_orphans(session=session, home=ctx.home, storage_dir=ctx.settings.storage_dir,
                            grace_seconds=ctx.settings.orphan_grace_minutes * 60)
        ids = eligible_application_ids(session=session, config=ctx.config, batch_year=batch_year,
                                       committee=committee)
    size = chunk_size or ctx.config.policy.chunks.issuance
    issued = 0
    for i in range(0, len(ids), size):
        with unit_of_work(app.sessions) as session:
            issued += len(issue_chunk(session=session, ctx=ctx, application_ids=ids[i:i + size],
                                      now=app.clock.now()).issued)
    return {"eligible": len(ids), "issued": issued}
