"""Issuing a 补办/换发 of a former platform's certificate on both engines: the origin
kept, the old one revoked through the outbox exactly once, a crash before the commit
and the re-run ending as an unbroken run, and never two successors of one certificate."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import Application, OutboxItem
from zhicheng.demo.issuance_samples import add_approved
from zhicheng.domain.certificate_numbers import make_number
from zhicheng.domain.certificate_record import record_problem
from zhicheng.domain.identity import make_id_number
from zhicheng.issuance import service as issuance
from zhicheng.issuance.models import Certificate, CertificateLookup

OLD = make_number("320100", 2016, 3, 812)
FORMER = {"certificate_no": OLD, "version": 1, "holder_name": "赵一鸣",
          "holder_id_number": make_id_number("320102", dt.date(1975, 3, 1), 0, "女"),

          "qualification_name": "工程师", "level": "中级", "series": "工程", "specialty": "电气工程",
          "obtained_by": "初定", "committee_name": None, "approved_on": "2016-12-03",
          "issued_on": "2016-12-20", "issuer": "南京市人力资源和社会保障局", "issuer_region_code": "320100",
          "filed_with_province": True, "status": "valid", "replaces": None,
          "document_sha256": None, "batch_root": "ab" * 32}


@pytest.fixture
def ctx(app):
    return issuance.IssueContext.for_app(app)


def reissue(app, *, start: int, looked_up: bool = True) -> list[int]:
    with unit_of_work(app.sessions) as s:
        ids = add_approved(session=s, config=app.config, count=1, start=start, committee_id=None, track="补办",
                           prior_certificate_no=OLD)
        if looked_up:
            s.add(CertificateLookup(application_id=ids[0], revision=1, certificate_no=OLD, outcome="found",
                                    source="province", record=FORMER, checked_at=app.clock.now()))
    return ids


def run_chunk(app, ctx, ids):
    with unit_of_work(app.sessions) as s:
        return issuance.issue_chunk(session=s, ctx=ctx, application_ids=ids, now=app.clock.now())


def state(app) -> dict:
    with app.sessions() as s:
        return {"certificates": sorted((c.certificate_no, c.version, c.status, c.application_id)
                                       for c in s.scalars(select(Certificate))),
                "province": sorted(s.scalars(select(OutboxItem.dedupe_key).where(OutboxItem.target == "province"))),
                "statuses": sorted(s.scalars(select(Application.status)))}


def test_the_former_platforms_certificate_is_revoked_once_and_its_origin_kept(app, ctx, monkeypatch):
    ids = reissue(app, start=0)

    def crash(session, result):
        raise RuntimeError("killed just before the commit")
    monkeypatch.setattr(issuance, "_before_commit", crash)
    with pytest.raises(RuntimeError):
        run_chunk(app, ctx, ids)
    assert state(app) == {"certificates": [], "province": [], "statuses": ["approved"]}   # nothing half-written
    monkeypatch.undo()

    result = run_chunk(app, ctx, ids)
    assert result.revoked == [OLD] and len(result.issued) == 1
    after = state(app)
    assert run_chunk(app, ctx, ids).issued == [] and state(app) == after            # a re-run changes nothing
    new_no = result.issued[0]
    assert after["province"] == sorted([f"{OLD}:v2", f"{new_no}:v1"])
    with app.sessions() as s:
        old = s.scalar(select(Certificate).where(Certificate.certificate_no == OLD))
        new = s.scalar(select(Certificate).where(Certificate.certificate_no == new_no))
        sent = s.scalar(select(OutboxItem.payload).where(OutboxItem.dedupe_key == f"{OLD}:v2"))
    assert (old.status, old.version, old.application_id) == ("revoked", 2, None)
    assert (new.replaces, new.obtained_by, new.approved_on.isoformat(), new.committee_name) == \
        (OLD, "初定", "2016-12-03", None)
    # sent back as the province holds it, but for version and status
    assert sent == {**FORMER, "version": 2, "status": "revoked"} and record_problem(sent) is None


def test_without_a_look_up_or_twice_in_one_chunk_it_is_not_issued(app, ctx):
    unlooked = reissue(app, start=0, looked_up=False)
    first, second = reissue(app, start=1), reissue(app, start=2)
    result = run_chunk(app, ctx, unlooked + first + second)
    assert len(result.issued) == 1 and result.revoked == [OLD]
    problems = {p["application_id"]: p["problem"] for p in result.problems}
    assert set(problems) == {unlooked[0], second[0]}
    assert "未经省一体化平台查证" in problems[unlooked[0]] and OLD in problems[second[0]]
    # the next chunk finds it revoked in our registry: still one successor
    again = run_chunk(app, ctx, second)
    assert not again.issued and "已作废" in again.problems[0]["problem"]
    with app.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Certificate)
                        .where(Certificate.replaces == OLD)) == 1
        assert s.get(Application, second[0]).status == "approved"
