"""A resubmission after a review return, through the real steps on both engines: intake
stores the higher revision, validation checks it again first, and only a revision that
passes re-enters the chain, at the stage that returned it (not at the start, and on
the chain it had)."""
from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

import hostile_pdfs as h
from validation_data import chsi_verified, replace_file, submission
from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import Application, OutboxItem
from zhicheng.domain.review import IllegalMove
from zhicheng.intake.service import StoredFile, material_path, store_submission
from zhicheng.review import service as review
from zhicheng.review.models import Decision, ReviewStep
from zhicheng.validation import service as validation

RETURNING = "行政主管部门审核"   # JS-GC-DQ-GJ, 省直, not delegated: seed 001 chain 1



def _intake(app, sub: dict, files: dict[str, bytes]) -> str:
    """Intake's store step for one delivered revision (the hall's HTTP left out), with
    学信 having verified its education (validation waits for 学信's answer)."""
    stored = {}
    for mid, data in files.items():
        sha = hashlib.sha256(data).hexdigest()
        target = app.settings.home / material_path(sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        stored[(sub["submission_id"], mid)] = StoredFile(sha, len(data), "application/pdf", material_path(sha))
    with unit_of_work(app.sessions) as s:
        outcome = store_submission(session=s, item=sub, files=stored, config=app.config, now=app.clock.now())
        s.flush()
        chsi_verified(s, s.scalars(select(Application).where(
            Application.submission_id == sub["submission_id"])).one(), sub)
        return outcome


def _validate(app, inspector) -> dict:
    with app.sessions() as s:
        ids = validation.pending(session=s)
    return validation.validate_chunk(sessions=app.sessions, application_ids=ids, config=app.config,
                                     now=app.clock.now(), files_root=app.settings.home, inspector=inspector)


def _decide(app, app_id, stage, action="approve", reason=None):
    with unit_of_work(app.sessions) as s:
        review.decide(session=s, application_id=app_id, stage=stage, action=action, actor="王芳", office="省某厅人事处",
                      reason=reason, decided_at=app.clock.now(), now=app.clock.now(), config=app.config)


def _app(app, sid) -> Application:
    with app.sessions() as s:
        a = s.scalars(select(Application).where(Application.submission_id == sid)).one()
        s.expunge(a)
        return a


def test_a_resubmission_is_validated_first_and_reenters_where_it_was_returned(app, inspector):
    sub, files = submission(1)
    sid = sub["submission_id"]
    assert _intake(app, sub, files) == "new"
    assert _validate(app, inspector)["passed"] == 1
    a = _app(app, sid)
    chain = list(a.chain)
    assert (a.status, a.stage) == ("in_review", "单位审核、公示")
    _decide(app, a.id, "单位审核、公示")
    app.clock.advance(days=1)
    _decide(app, a.id, RETURNING, "return", "业绩材料不全，请补充")

    # revision 2 arrives with a file validation refuses: not back in review
    app.clock.advance(days=2)
    bad = replace_file({**sub, "revision": 2}, dict(files), "M01", h.scan_pdf(96))
    assert _intake(app, bad, {**files, "M01": h.scan_pdf(96)}) == "resubmission"
    assert _app(app, sid).status == "received"
    with pytest.raises(IllegalMove, match="不在审核流程中"):   # not decided before it is validated
        _decide(app, a.id, RETURNING)
    assert _validate(app, inspector)["returned"] == 1
    a = _app(app, sid)
    assert (a.status, a.current_revision) == ("returned", 2)
    with app.sessions() as s:
        keys = sorted(o.dedupe_key for o in s.scalars(select(OutboxItem).where(OutboxItem.target == "hall_return")))
        open_steps = s.scalars(select(ReviewStep).where(ReviewStep.left_at.is_(None))).all()
    assert keys == [f"return:{sid}:r1:{RETURNING}", f"return:{sid}:r2:评审申报"]
    assert open_steps == []

    # revision 3 is clean: validated, then back at the stage that returned it
    app.clock.advance(days=2)
    assert _intake(app, {**sub, "revision": 3}, files) == "resubmission"
    assert _validate(app, inspector)["passed"] == 1
    a = _app(app, sid)
    assert (a.status, a.stage, a.current_revision, a.chain) == ("in_review", RETURNING, 3, chain)
    _decide(app, a.id, RETURNING)
    assert _app(app, sid).stage == "评委会审核"
    with app.sessions() as s:
        log = [(d.revision, d.stage, d.action) for d in s.scalars(select(Decision).order_by(Decision.id))]
        steps = [(r.stage, r.outcome) for r in s.scalars(select(ReviewStep).order_by(ReviewStep.id))]
    assert log == [(1, "单位审核、公示", "approve"), (1, RETURNING, "return"), (3, RETURNING, "approve")]
    assert steps == [("单位审核、公示", "approve"), (RETURNING, "return"), (RETURNING, "approve"),
                     ("评委会审核", None)]
