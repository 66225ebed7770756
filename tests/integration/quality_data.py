"""A small clean year for the quality suites, and defects planted in it directly in the
database (bypassing the application), each on rows of its own so that exactly one
expectation reports exactly those rows."""
from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import select, update

from support import audit_rules_suspended
from zhicheng.clock import SHANGHAI
from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import (Applicant, Application, ApplicationRevision, CommitteeMember,
                                Employer, Material, OutboxItem)
from zhicheng.demo.issuance_samples import REPORTING, add_approved
from zhicheng.domain.certificate_numbers import make_number
from zhicheng.domain.identity import make_id_number, make_uscc
from zhicheng.issuance import service as issuance
from zhicheng.issuance.models import Certificate, SerialCounter
from zhicheng.review.models import Decision, ReviewStep
from zhicheng.votes.models import Ballot, VotingSession

NJ = "NJ-GC-ZJ"


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, 5, day, hour, 0, tzinfo=SHANGHAI)


def clean_year(app) -> dict:
    """Issued certificates (two issuers, one 补办 replacing an old one), applications in
    review with decisions (one returned and resubmitted), stored materials, a voting
    session with a voided duplicate ballot, and the outbox issuance filled."""
    with unit_of_work(app.sessions) as s:
        ids = {"nj": add_approved(session=s, config=app.config, count=6),
               "tz": add_approved(session=s, config=app.config, count=3, start=100, committee_id="TZ-GC-ZJ"),
               "spare": add_approved(session=s, config=app.config, count=7, start=200),
               "own_employer": add_approved(session=s, config=app.config, count=1, start=300)}
    ctx = issuance.IssueContext.for_app(app)
    assert issuance.issue_batch(app=app, ctx=ctx)["issued"] == 17
    old = certificate_of(app, ids["nj"][0])
    with unit_of_work(app.sessions) as s:
        ids["reissue"] = add_approved(session=s, config=app.config, count=1, start=400, committee_id=None,
                                      track="补办", prior_certificate_no=old)
    assert issuance.issue_batch(app=app, ctx=ctx)["issued"] == 1
    with unit_of_work(app.sessions) as s:   # a 换发 of the 补办's certificate
        ids["reissue2"] = add_approved(session=s, config=app.config, count=1, start=401, committee_id=None,
                                       track="换发", prior_certificate_no=certificate_of(app, ids["reissue"][0]))
    assert issuance.issue_batch(app=app, ctx=ctx)["issued"] == 1
    with unit_of_work(app.sessions) as s:
        ids["review"] = [in_review(s, app.config, n, moves)
                         for n, moves in enumerate([[(0, "approve"), (1, "approve"), (2, "return"),
                                                     (2, "approve")],
                                                    [(0, "approve"), (1, "approve")],
                                                    [(0, "approve"), (1, "approve"), (2, "approve")],
                                                    [(0, "approve"), (1, "approve")],
                                                    []])]
        materials(s, app, ids["review"][0])
        ids["session"] = ballots(s, ids["review"][:2])
    return ids


def certificate_of(app, application_id: int) -> str:
    with app.sessions() as s:
        return s.scalar(select(Certificate.certificate_no)
                        .where(Certificate.application_id == application_id))


def in_review(s, config, n: int, moves: list[tuple[int, str]]) -> int:
    """An application of NJ-GC-ZJ in review, its decisions `moves` (stage index, action)."""
    c = config.committees[NJ]
    chain = list(config.chains.for_application(track="评审", tier=c.tier, reporting=REPORTING[c.tier],
                                               delegated=c.delegated))
    index = moves[-1][0] + (moves[-1][1] == "approve") if moves else 1
    person = Applicant(id_number=make_id_number("320102", dt.date(1986, 3, 1), 600 + n, "男"),
                       name=f"在审{n}", gender="男")
    employer = Employer(uscc=make_uscc("91", "320102", f"{700 + n:08d}"), name=f"在审单位{n}",
                        region_code="320102")
    s.add_all([person, employer])
    s.flush()
    a = Application(submission_id=f"S-REV-{n}", current_revision=1, applicant_id=person.id,
                    employer_id=employer.id, employer_name=employer.name, committee_id=NJ, track="评审",
                    batch_year=2026,
                    level="中级", series=c.series, specialty=c.specialties[0], qualification_name="工程师",
                    reporting_level=REPORTING[c.tier], region_code="320102", status="in_review",
                    chain=chain, stage_index=index, stage=chain[index], holds_year_slot=True,
                    submitted_at=at(10))
    s.add(a)
    s.flush()
    s.add(ApplicationRevision(application_id=a.id, revision=1, payload={}, payload_sha256="0" * 64,
                              valid=True, received_at=at(10)))
    for k, (i, action) in enumerate(moves):
        decide(s, a, i, action, at(11 + k), revision=a.current_revision)
        if action == "return":  # what follows is the resubmission's round: a new revision
            a.current_revision += 1
            s.add(ApplicationRevision(application_id=a.id, revision=a.current_revision, payload={},
                                      payload_sha256="1" * 64, valid=True, received_at=at(11 + k)))
    return a.id


def decide(s, a: Application, index: int, action: str, when: dt.datetime,
           stage: str | None = None, revision: int = 1) -> int:
    d = Decision(application_id=a.id if isinstance(a, Application) else a, revision=revision,
                 stage_index=index, stage=stage or a.chain[index], action=action, actor="审核员",
                 office="南京市人社局", reason=None, decided_at=when, recorded_at=when)
    s.add(d)
    s.flush()
    return d.id


CLEAN_MATERIALS = (("M-ok", "consent", 1000), ("M-large", "achievement", 600 * 1024))
BAD_MATERIALS = (("M-big", "other", 600 * 1024), ("M-nohash", "other", 2000), ("M-missing", "other", 3000))


def materials(s, app, application_id: int, kinds=CLEAN_MATERIALS) -> None:
    revision = s.get(Application, application_id).current_revision  # the suite checks the current one
    for mid, kind, size in kinds:
        data = mid.encode() * 10
        sha = hashlib.sha256(data).hexdigest()
        path = f"materials/{sha[:2]}/{sha}.pdf"
        (app.settings.home / path).parent.mkdir(parents=True, exist_ok=True)
        if mid != "M-missing":
            (app.settings.home / path).write_bytes(data)
        s.add(Material(application_id=application_id, revision=revision, material_id=mid, type=kind,
                       file_name=f"{mid}.pdf", declared_size=size, size=size,
                       sha256=None if mid == "M-nohash" else sha, declared_sha256=sha,
                       content_type="application/pdf", storage_path=path, fetched_at=at(10)))


def ballots(s, application_ids: list[int]) -> int:
    members = [CommitteeMember(committee_id=NJ, member_code=f"M0{i}", name=f"专家{i}") for i in (1, 2, 3)]
    session = VotingSession(code="NJ-2026-1", committee_id=NJ, held_on=dt.date(2026, 5, 25),
                            members_total=3)
    s.add_all([*members, session])
    s.flush()
    for app_id in application_ids:
        for m, vote in zip(members, ("同意", "同意", "弃权"), strict=True):
            s.add(Ballot(session_id=session.id, application_id=app_id, member_id=m.id, vote=vote))
    # a duplicate a human has voided: no longer a fault
    s.add(Ballot(session_id=session.id, application_id=application_ids[0], member_id=members[2].id,
                 vote="同意", voided_at=at(26), void_reason="重复录入"))
    s.flush()
    return session.id


def plant_defects(app, ids: dict) -> dict[tuple[str, str], tuple[str, set]]:
    """Plant one defect of every kind; returns, per (suite, check), the column that names
    the offending rows and the values it must report."""
    nj, spare = ids["nj"], ids["spare"]
    certs = {a: certificate_of(app, a) for a in nj + ids["tz"] + spare + ids["reissue"] + ids["reissue2"]}
    expected: dict[tuple[str, str], tuple[str, set]] = {}
    with unit_of_work(app.sessions) as s:
        expected.update(_applications(s, ids))
        expected.update(_review(s, ids))
        with audit_rules_suspended(s):  # defects the application itself could never write
            expected.update(_certificates(s, app, ids, certs))
        expected.update(_outbox(s, app))
        materials(s, app, ids["review"][0], BAD_MATERIALS)
    expected[("materials", "size_within_limits")] = ("material_id", {"M-big"})
    expected[("materials", "hash_present")] = ("material_id", {"M-nohash"})
    expected[("materials", "file_stored")] = ("material_id", {"M-missing"})
    return expected


def _app(s, app_id: int) -> Application:
    return s.get(Application, app_id)


def _applications(s, ids: dict) -> dict:
    x, z, st, w, v, u = ids["spare"][:6]
    person = s.get(Applicant, _app(s, x).applicant_id)
    person.id_number = person.id_number[:17] + ("0" if person.id_number[17] != "0" else "1")
    employer = s.get(Employer, _app(s, ids["own_employer"][0]).employer_id)
    employer.uscc = employer.uscc[:17] + ("0" if employer.uscc[17] != "0" else "1")
    _app(s, z).region_code = "999999"
    _app(s, st).status = "bogus"
    s.add(ReviewStep(application_id=w, stage_index=1, stage="市单位审核、公示", entered_at=at(21),
                     left_at=at(20)))
    _app(s, v).submitted_at = at(25)  # after its approval of the 20th
    _app(s, u).specialty = "土木工程"  # NJ-GC-ZJ does not cover it
    future = ids["review"][4]
    _app(s, future).submitted_at = dt.datetime(2026, 6, 2, 9, 0, tzinfo=SHANGHAI)
    return {("applications", "id_number_valid"): ("application_id", {x}),
            ("applications", "employer_uscc_valid"): ("application_id", {ids["own_employer"][0]}),
            ("applications", "regions_known"): ("application_id", {z}),
            ("applications", "status_known"): ("application_id", {st}),
            ("applications", "review_steps_in_order"): ("application_id", {w}),
            ("applications", "decided_after_submission"): ("application_id", {v}),
            ("applications", "committee_covers_declaration"): ("application_id", {u}),
            ("applications", "submitted_not_in_future"): ("application_id", {future})}


def _review(s, ids: dict) -> dict:
    _, d1, d2, d3, _ = (_app(s, i) for i in ids["review"])
    typo = decide(s, d1, 2, "approved", at(20))
    wrong_stage = decide(s, d2, 3, "approve", at(20), stage="不存在的环节")
    skipped = decide(s, d3, 3, "approve", at(20))  # stage 2 never decided
    d3.stage_index, d3.stage = 4, d3.chain[4]
    members = {m.member_code: m.id for m in s.scalars(select(CommitteeMember))}
    review0, review1 = ids["review"][0], ids["review"][1]
    s.add(Ballot(session_id=ids["session"], application_id=review0, member_id=members["M02"], vote="同意"))
    bad = Ballot(session_id=ids["session"], application_id=review1, member_id=members["M01"], vote="赞成")
    s.execute(update(Ballot).where(Ballot.application_id == review1, Ballot.member_id == members["M01"])
              .values(voided_at=at(26), void_reason="改录"))
    s.add(bad)
    s.flush()
    return {("decisions", "action_known"): ("decision_id", {typo}),
            ("decisions", "stage_on_chain"): ("decision_id", {wrong_stage}),
            ("decisions", "stages_in_chain_order"): ("decision_id", {skipped}),
            ("ballots", "vote_in_domain"): ("ballot_id", {bad.id}),
            ("ballots", "one_ballot_per_expert_and_application"): ("member_code", {"M02"})}


def _cert(s, no: str) -> Certificate:
    return s.scalar(select(Certificate).where(Certificate.certificate_no == no))


def _copy(s, source: Certificate, number: str, **changes) -> Certificate:
    skip = {"id", "certificate_no", "application_id", "issuance_run_id", "merkle_proof"}
    fields = {c.key: getattr(source, c.key) for c in Certificate.__table__.columns if c.key not in skip}
    cert = Certificate(certificate_no=number, application_id=None, **{**fields, **changes})
    s.add(cert)
    return cert


def _certificates(s, app, ids: dict, certs: dict[int, str]) -> dict:
    nj = [certs[a] for a in ids["nj"]]
    bad_check = nj[1][:17] + ("0" if nj[1][17] != "0" else "1")
    _cert(s, nj[1]).certificate_no = bad_check
    _cert(s, nj[2]).issued_on = dt.date(2026, 5, 19)  # approved on the 20th
    _cert(s, nj[3]).status = "revoked"                  # without revoked_at
    _cert(s, nj[4]).key_id = None
    (app.settings.home / _cert(s, nj[5]).document_path).unlink()
    spare = _cert(s, certs[ids["spare"][6]])
    duplicate = spare.certificate_no[:17] + ("0" if spare.certificate_no[17] != "0" else "1")
    _copy(s, spare, duplicate)
    no_counter = make_number("320100", 2025, 3, 1)
    _copy(s, spare, no_counter, issued_on=dt.date(2025, 12, 1), approved_on=dt.date(2025, 11, 1))
    tz_last = _cert(s, certs[ids["tz"][2]])
    renumbered = make_number("321200", 2026, 3, 5)
    tz_last.certificate_no = renumbered
    s.execute(update(SerialCounter).where(SerialCounter.issuer_region_code == "321200")
              .values(next_serial=6))
    s.execute(update(SerialCounter).where(SerialCounter.issuer_region_code == "320100",
                                          SerialCounter.year == 2026)
              .values(next_serial=SerialCounter.next_serial + 1))
    reissued = certs[ids["reissue"][0]]
    replaced = _cert(s, _cert(s, reissued).replaces)
    replaced.status, replaced.revoked_at = "valid", None
    # the province rejected a revocation (its outbox item), and spare is valid three times
    given_up = _cert(s, _cert(s, certs[ids["reissue2"][0]]).replaces)
    s.execute(update(OutboxItem).where(OutboxItem.dedupe_key == f"{given_up.certificate_no}:v{given_up.version}")
              .values(status="rejected"))
    s.flush()
    return {("certificates", "number_well_formed"): ("certificate_no", {bad_check, duplicate}),
            ("certificates", "number_unique"): ("number_body", {duplicate[:17]}),
            ("certificates", "serials_gapless"): ("next_certificate_no", {renumbered}),
            ("certificates", "numbers_from_counters"): ("certificate_no", {no_counter}),
            ("certificates", "serials_reach_counter"): ("issuer", {"320100"}),
            ("certificates", "issued_not_before_approval"): ("certificate_no", {nj[2]}),
            ("certificates", "status_consistent"): ("certificate_no", {nj[3]}),
            ("certificates", "valid_has_document_and_signature"): ("certificate_no", {nj[4]}),
            ("certificates", "document_file_exists"): ("certificate_no", {nj[5]}),
            ("certificates", "replaced_are_revoked"): ("certificate_no", {reissued}),
            ("certificates", "one_valid_per_title"): ("certificate_no", {min(spare.certificate_no, duplicate,
                                                                             no_counter)}),
            ("certificates", "replaced_revocation_sent"): ("certificate_no", {given_up.certificate_no})}


def _outbox(s, app) -> dict:
    now = app.clock.now()
    unknown = OutboxItem(target="ftp", kind="x", dedupe_key="q-1", payload={}, status="sent",
                         created_at=now)
    stale = OutboxItem(target="province", kind="certificate", dedupe_key="q-2", payload={},
                       status="pending", created_at=now - dt.timedelta(hours=48))
    s.add_all([unknown, stale])
    s.flush()
    return {("outbox", "target_known"): ("outbox_id", {unknown.id}),
            ("outbox", "nothing_pending_too_long"): ("outbox_id", {stale.id})}
