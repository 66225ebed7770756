"""Issuing certificates on both engines: numbers, records, exactly once, crash safety."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import Application, OutboxItem
from zhicheng.demo.issuance_samples import add_approved
from zhicheng.domain.certificate_numbers import is_valid_number, parse_number
from zhicheng.domain.certificate_record import record_problem
from zhicheng.domain.merkle import verify_proof
from zhicheng.issuance import files as certificate_files, service as issuance
from zhicheng.issuance.models import Certificate, IssuanceRun, SerialCounter
from zhicheng.review.models import Decision


def setup(app, **kw) -> list[int]:
    with unit_of_work(app.sessions) as s:
        return add_approved(session=s, config=app.config, **kw)


def run_chunk(app, ctx, ids):
    with unit_of_work(app.sessions) as s:
        return issuance.issue_chunk(session=s, ctx=ctx, application_ids=ids, now=app.clock.now())


@pytest.fixture
def ctx(app):
    return issuance.IssueContext.for_app(app)


def certificates(app) -> list[Certificate]:
    with app.sessions() as s:
        return list(s.scalars(select(Certificate).order_by(Certificate.application_id)))


def test_a_chunk_issues_numbered_signed_recorded_certificates(app, ctx):
    nj = setup(app, count=5, committee_id="NJ-GC-ZJ")                 # delegated, 中级
    tz = setup(app, count=3, start=100, committee_id="TZ-GC-ZJ")      # not delegated
    result = run_chunk(app, ctx, nj + tz)
    assert len(result.issued) == 8 and not result.problems
    certs = certificates(app)
    by_issuer = {}
    for c in certs:
        assert is_valid_number(c.certificate_no)
        n = parse_number(c.certificate_no)
        assert (n.year, n.level_digit) == (2026, 3)
        by_issuer.setdefault(n.issuer_region_code, []).append(n.serial)
        assert (app.settings.home / c.document_path).exists()
        assert c.key_id.startswith(c.issuer_region_code + "-")
    assert by_issuer == {"320100": [1, 2, 3, 4, 5], "321200": [1, 2, 3]}
    nj_cert = next(c for c in certs if c.application_id == nj[0])
    tz_cert = next(c for c in certs if c.application_id == tz[0])
    assert nj_cert.issuer == "南京市人力资源和社会保障局" and nj_cert.filed_with_province
    assert not tz_cert.filed_with_province and tz_cert.issuer == "泰州市人力资源和社会保障局"
    assert nj_cert.approved_on.isoformat() == "2026-05-20" and nj_cert.issued_on.isoformat() == "2026-06-01"
    with app.sessions() as s:
        run = s.get(IssuanceRun, result.run_id)
        assert run.certificates == 8 and run.merkle_root == result.merkle_root
        for c in certs:
            assert verify_proof(c.document_sha256, c.merkle_proof, run.merkle_root)
        apps = s.scalars(select(Application).where(Application.id.in_(nj + tz))).all()
        assert {a.status for a in apps} == {"issued"}
        assert all(a.stage == a.chain[-1] for a in apps)
        # delegated: 备案 and 评委会发证 recorded; not delegated: the issuing stage only
        stages = s.scalars(select(Decision.stage).where(Decision.application_id == nj[0],
                                                        Decision.actor == "system")).all()
        assert stages[-2:] == ["省/市职称管理部门备案", "评委会发证"]
        items = s.scalars(select(OutboxItem).order_by(OutboxItem.id)).all()
    province = [i for i in items if i.target == "province"]
    assert sorted(i.dedupe_key for i in province) == sorted(f"{c.certificate_no}:v1" for c in certs)
    record = next(i.payload for i in province if i.dedupe_key.startswith(nj_cert.certificate_no))
    assert record["batch_root"] == result.merkle_root and record["status"] == "valid"
    assert record["document_sha256"] == nj_cert.document_sha256 and record["obtained_by"] == "评审"
    assert all(record_problem(i.payload) is None for i in province)  # what the province accepts
    notes = [i for i in items if i.target == "hall_notification"]
    assert len(notes) == 8 and notes[0].payload["template"] == "issued"


def test_issuing_again_changes_nothing(app, ctx):
    ids = setup(app, count=4)
    run_chunk(app, ctx, ids)
    before = [(c.certificate_no, c.document_sha256) for c in certificates(app)]
    again = run_chunk(app, ctx, ids)
    assert again.issued == [] and again.run_id is None
    assert [(c.certificate_no, c.document_sha256) for c in certificates(app)] == before
    with app.sessions() as s:
        assert s.scalar(select(SerialCounter.next_serial)) == 5


def test_a_crash_before_commit_leaves_no_gap_and_no_orphan(app, ctx, monkeypatch):
    ids = setup(app, count=6)

    def crash(session, result):
        raise RuntimeError("killed after writing the files")
    monkeypatch.setattr(issuance, "_before_commit", crash)
    with pytest.raises(RuntimeError):
        run_chunk(app, ctx, ids)
    with app.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Certificate)) == 0
        assert s.scalar(select(func.count()).select_from(OutboxItem)) == 0
        assert s.scalar(select(SerialCounter.next_serial)) in (None, 1)
        store = app.settings.home / "certificates"
        assert len(list(store.rglob("*.pdf"))) == 6  # written, never committed
        removed = certificate_files.sweep_orphans(session=s, home=app.settings.home,
                                                  storage_dir="certificates", grace_seconds=0)
    assert len(removed) == 6 and not list(store.rglob("*.pdf"))
    monkeypatch.undo()
    result = run_chunk(app, ctx, ids)
    assert [parse_number(n).serial for n in result.issued] == [1, 2, 3, 4, 5, 6]


def test_applications_not_ready_are_left_alone(app, ctx):
    ids = setup(app, count=2)
    with unit_of_work(app.sessions) as s:
        s.get(Application, ids[0]).status = "in_review"
    with app.sessions() as s:
        assert issuance.eligible_application_ids(session=s, config=app.config) == [ids[1]]
        assert issuance.eligible_application_ids(session=s, config=app.config, committee="TZ-GC-ZJ") == []
    assert run_chunk(app, ctx, ids).skipped == [ids[0]]


def test_an_application_on_a_publicity_window_still_open_waits(app, ctx):
    """'Past its final publicity': approved is not enough while its window is open."""
    import datetime as dt

    from zhicheng.publicity.models import PublicityEntry, PublicityWindow
    ids = setup(app, count=2)
    with unit_of_work(app.sessions) as s:
        day = dt.date(2026, 6, 1)
        window = PublicityWindow(kind="评后", committee_id="NJ-GC-ZJ", published_on=day, opens_on=day,
                                 closes_on=day, ends_at=dt.datetime(2026, 6, 2, tzinfo=dt.timezone.utc),
                                 status="open")
        s.add(window)
        s.flush()
        s.add(PublicityEntry(window_id=window.id, application_id=ids[0]))
    with app.sessions() as s:
        assert issuance.eligible_application_ids(session=s, config=app.config) == [ids[1]]
    with unit_of_work(app.sessions) as s:
        s.get(PublicityWindow, window.id).status = "closed"
    with app.sessions() as s:
        assert issuance.eligible_application_ids(session=s, config=app.config) == ids


def test_reissue_revokes_the_old_and_sends_both(app, ctx):
    first = setup(app, count=1)
    old_no = run_chunk(app, ctx, first).issued[0]
    again = setup(app, count=1, start=1, committee_id=None, track="补办",
                  prior_certificate_no=old_no)
    result = run_chunk(app, ctx, again)
    assert result.revoked == [old_no]
    with app.sessions() as s:
        old = s.scalar(select(Certificate).where(Certificate.certificate_no == old_no))
        new = s.scalar(select(Certificate).where(Certificate.certificate_no == result.issued[0]))
        assert old.status == "revoked" and old.version == 2 and "补办" in old.revoke_reason
        assert new.replaces == old_no and new.status == "valid" and new.version == 1
        assert new.qualification_name == old.qualification_name
        keys = set(s.scalars(select(OutboxItem.dedupe_key).where(OutboxItem.target == "province")))
        revoked = s.scalar(select(OutboxItem).where(OutboxItem.dedupe_key == f"{old_no}:v2"))
    assert {f"{old_no}:v1", f"{old_no}:v2", f"{new.certificate_no}:v1"} <= keys
    assert revoked.payload["status"] == "revoked" and record_problem(revoked.payload) is None


def test_an_application_missing_its_data_stays_approved_with_the_reason(app, ctx):
    ids = setup(app, count=2)
    with unit_of_work(app.sessions) as s:
        s.get(Application, ids[0]).qualification_name = None
        s.get(Application, ids[0]).level = "特级"
    result = run_chunk(app, ctx, ids)
    assert len(result.issued) == 1 and result.problems[0]["application_id"] == ids[0]
    assert "特级" in result.problems[0]["problem"]
    with app.sessions() as s:
        assert s.get(Application, ids[0]).status == "approved"


def test_history_registration_has_no_document(app, ctx):
    ids = setup(app, count=1, committee_id=None, track="历史登记",
                prior_certificate_no="32120020103000017")  # a legacy format: kept as it is
    result = run_chunk(app, ctx, ids)
    assert result.registered == ["32120020103000017"] and not result.issued
    (cert,) = certificates(app)
    assert cert.document_path is None and cert.obtained_by == "历史登记"
    with app.sessions() as s:
        assert s.get(Application, ids[0]).status == "registered"
        item = s.scalar(select(OutboxItem).where(OutboxItem.target == "province"))
    assert item.payload["document_sha256"] is None and item.payload["batch_root"] is None


def test_history_registration_keeps_a_number_in_our_format(app, ctx):
    from zhicheng.domain.certificate_numbers import make_number
    old_no = make_number("320500", 2019, 4, 123)
    ids = setup(app, count=1, committee_id=None, track="历史登记", prior_certificate_no=old_no)
    assert run_chunk(app, ctx, ids).registered == [old_no]
    (cert,) = certificates(app)
    assert (cert.certificate_no, cert.document_path) == (old_no, None)


def test_a_registered_number_in_our_series_is_passed_over_and_never_registered_twice(app, ctx):
    """A 历史登记 may hold a number of the series being issued (a legacy system's, in the
    cut-over year): issuing goes round it, and registering it again is one
    application's problem, not a failed chunk."""
    from zhicheng.domain.certificate_numbers import make_number
    held = make_number("320100", 2026, 3, 2)
    history = setup(app, count=1, committee_id=None, track="历史登记", prior_certificate_no=held)
    assert run_chunk(app, ctx, history).registered == [held]
    again = setup(app, count=1, start=5, committee_id=None, track="历史登记", prior_certificate_no=held)
    fresh = setup(app, count=3, start=10)                  # NJ-GC-ZJ: 320100, 中级, 2026
    result = run_chunk(app, ctx, again + fresh)
    assert [parse_number(n).serial for n in result.issued] == [1, 3, 4]
    assert [p["application_id"] for p in result.problems] == again and held in result.problems[0]["problem"]
    with app.sessions() as s:
        assert s.scalar(select(SerialCounter.next_serial)) == 5
        assert s.get(Application, again[0]).status == "approved"


def test_a_stage_already_decided_is_not_recorded_again(app, ctx):
    """The issuing stage was already approved in this revision (by hand, or an earlier
    attempt): issuance records no second decision, which the database would refuse."""
    from zhicheng.review import service as review
    (app_id,) = setup(app, count=1, start=500, committee_id="TZ-GC-ZJ")   # at its last stage, 发证
    with unit_of_work(app.sessions) as s:
        a = s.get(Application, app_id)
        review.decide(session=s, application_id=app_id, stage=a.stage, action="approve", actor="system",
                      office="泰州市人社局", reason="发证", decided_at=app.clock.now(), now=app.clock.now(),
                      config=app.config)
    result = run_chunk(app, ctx, [app_id])
    assert len(result.issued) == 1 and not result.problems
    with app.sessions() as s:
        a = s.get(Application, app_id)
        at_last = s.scalars(select(Decision.stage).where(Decision.application_id == app_id,
                                                         Decision.stage_index == len(a.chain) - 1)).all()
    assert a.status == "issued" and at_last == [a.chain[-1]]
