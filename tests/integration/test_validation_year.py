"""On a generated year: every planted fault (intake's, validation's, 学信's and the
province look-up's, the 学信 and province stand-ins serving the year) is found with its
code, on its submission, and nothing else is flagged. Applications with an error are returned once; the rest go on."""
from __future__ import annotations

import re
from collections import Counter

import pytest
from sqlalchemy import func, select

from validation_data import load_year
from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import Application, Finding, OutboxItem
from zhicheng.domain.findings import SEVERITIES
from zhicheng.education import service as education
from zhicheng.education.fetch import gateway_from_settings
from zhicheng.settings import Settings
from zhicheng.standins.generator import generate
from zhicheng.validation import service as validation


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    out = tmp_path_factory.mktemp("year")
    generate(out, applications=110, seed=41, fault_rate=0.6)
    return out


@pytest.fixture
def year_dir(year):
    return year          # the 学信 stand-in serves this year's people and reports



def test_a_generated_year(app, year, year_dir, chsi_env, province_env, look_up_priors):
    with unit_of_work(app.sessions) as s:
        manifest = load_year(s, year, files_root=app.settings.home, config=app.config, now=app.clock.now())
    with app.sessions() as s:
        ids = validation.pending(session=s)
    with app.sessions() as s:
        asked = education.pending(session=s)
    with gateway_from_settings(Settings(), app.config) as gateway:
        got = education.sync_chunk(sessions=app.sessions, gateway=gateway, application_ids=asked,
                                   config=app.config, now=app.clock.now(), files_root=app.settings.home)
    assert not got["outage"]
    assert not look_up_priors()["outage"]      # 补办/换发/历史登记: the province by number
    summary = validation.validate_chunk(sessions=app.sessions, application_ids=ids, config=app.config,
                                        now=app.clock.now(), files_root=app.settings.home)
    planted: dict[str, Counter] = {}
    for f in manifest["faults"]:
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
    kinds = {c for c in planted.values() for c in c}
    assert len(kinds) > 40 and len({k for k in kinds if k.startswith("chsi.")}) >= 5  # most kinds, 学信's too
    assert summary["returned"] + returned.get("invalid", 0) == len(errors) == hall_returns
    assert returned.get("received", 0) == 0          # nothing left waiting for 学信
    with app.sessions() as s:
        stored = s.scalars(select(Finding)).all()
    unworded = [(f.code, f.field, f.material_id, f.message) for f in stored if not worded(f, app.config.findings)]
    assert not unworded


def worded(f: Finding, catalogue) -> bool:
    """What the issue asks of every finding: code, severity, the field or material, and
    a Chinese message with every placeholder of its template filled in."""
    names = catalogue.placeholders(f.code)
    return (f.severity in SEVERITIES and (f.field or f.material_id) is not None
            and bool(re.search(r"[\u4e00-\u9fff]", f.message))
            and all(str(f.params.get(n) or "").strip() for n in names))
