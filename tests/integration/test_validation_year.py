"""On a generated year: every planted fault that intake and validation own is found with
its code, on its submission, and nothing else is flagged (学信 faults are the education
sync's). Applications with an error are returned once; the rest go on."""
from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from validation_data import load_year
from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import Application, Finding, OutboxItem
from zhicheng.services import validation
from zhicheng.standins.generator import generate


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    out = tmp_path_factory.mktemp("year")
    generate(out, applications=110, seed=41, fault_rate=0.6)
    return out


def test_a_generated_year(app, year):
    with unit_of_work(app.sessions) as s:
        manifest = load_year(s, year, files_root=app.settings.home, config=app.config, now=app.clock.now())
    with app.sessions() as s:
        ids = validation.pending(s)
    summary = validation.validate_chunk(sessions=app.sessions, application_ids=ids, config=app.config,
                                        now=app.clock.now(), files_root=app.settings.home)
    planted: dict[str, Counter] = {}
    for f in manifest["faults"]:
        if not f["code"].startswith("chsi."):
            planted.setdefault(f["submission_id"], Counter())[f["code"]] += 1
    with app.sessions() as s:
        rows = s.execute(select(Application.submission_id, Finding.code)
                         .join(Finding, Finding.application_id == Application.id)).all()
        errors = {sid for (sid,) in s.execute(select(Application.submission_id).join(
            Finding, Finding.application_id == Application.id).where(Finding.severity == "error"))}
        returned = dict(s.execute(select(Application.status, func.count()).group_by(Application.status)).all())
        hall_returns = s.scalar(select(func.count()).select_from(OutboxItem).where(OutboxItem.target == "hall_return"))
    found: dict[str, Counter] = {}
    for sid, code in rows:
        found.setdefault(sid, Counter())[code] += 1
    wrong = {sid: (dict(found.get(sid, {})), dict(planted.get(sid, {})))
             for sid in set(found) | set(planted) if found.get(sid, Counter()) != planted.get(sid, Counter())}
    assert not wrong
    assert len({c for c in planted.values() for c in c}) > 35          # most kinds are in this year
    assert summary["returned"] + returned.get("invalid", 0) == len(errors) == hall_returns
    assert returned.get("received", 0) == 0
