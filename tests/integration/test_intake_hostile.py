"""Intake against a hall that sends too much: a material beyond its cap gets the size
finding with memory bounded, whether the hall says its length or not; a page of JSON
nested too deep is a bad answer (the contract: transient), and nothing is stored."""
from __future__ import annotations

import copy
import json
import tracemalloc

import pytest
from sqlalchemy import select

from zhicheng.config import get_config
from zhicheng.connectors.errors import Unavailable
from zhicheng.connectors.hall import HallClient
from zhicheng.db.models import Application, Finding, Material, SyncCursor
from zhicheng.intake import service as intake
from zhicheng.settings import Settings
from zhicheng.standins.generator import generate

MiB = 2**20
HUGE = 400 * MiB


@pytest.fixture(scope="module")
def one_submission(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    generate(root, applications=1, seed=5, fault_rate=0)
    return json.loads((root / "submissions.jsonl").read_text(encoding="utf-8").splitlines()[0])


@pytest.fixture
def client(hall, standin_credentials):
    app_id, secret = standin_credentials
    with HallClient.from_settings(Settings(hall_url=hall.url, hall_app_id=app_id, hall_app_secret=secret),
                                  get_config(), sleep=lambda s: None) as c:
        yield c


def _pull(app, client):
    return intake.pull_page(sessions=app.sessions, hall=client, config=app.config,
                            files_root=app.settings.home, now=app.clock.now(), limit=10)


@pytest.mark.parametrize("with_length", [True, False])
def test_an_oversized_material_gets_the_size_finding_in_bounded_memory(app, hall, client, one_submission,
                                                                       with_length):
    """BIG: a 400 MiB 身份证 scan, declared as such (the limit is 500 KB). SMALL: a paper
    declared as 2,000 bytes that comes as 400 MiB (not the declared upload)."""
    sub = copy.deepcopy(one_submission)
    sub["materials"] = [
        {"material_id": "BIG", "type": "id_card", "file_name": "身份证.pdf", "size": HUGE, "sha256": "0" * 64},
        {"material_id": "SMALL", "type": "paper", "file_name": "论文.pdf", "size": 2000, "sha256": "0" * 64}]
    hall.add_submission(sub, {m["material_id"]: (b"%PDF-1.4 tiny", "application/pdf") for m in sub["materials"]})
    hall.faults.set("material", oversize_bytes=HUGE, oversize_length=with_length)
    tracemalloc.start()
    try:
        page = _pull(app, client)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 200 * MiB, f"{peak / MiB:.0f} MiB"
    assert page.outcomes == {"new": 1} and page.files == 0
    with app.sessions() as s:
        found = {f.material_id: f for f in s.scalars(select(Finding).where(Finding.material_id.is_not(None)))}
        kept = {m.material_id: m for m in s.scalars(select(Material))}
    assert found["BIG"].code == "material.too_large"     # its size, or at least the cap's + 1 byte
    assert (found["BIG"].params["size_kb"], found["BIG"].params["limit_kb"]) == (
        "409600" if with_length else "501", "500")
    assert found["SMALL"].code == "material.hash_mismatch"
    assert ("实际收到419430400字节" if with_length else "实际收到超过2000字节") in found["SMALL"].message
    assert all(m.storage_path is None for m in kept.values())
    assert not list((app.settings.home / "materials").rglob("*"))   # nothing of them written


def test_a_page_nested_too_deep_is_a_bad_answer_and_stores_nothing(app, hall, client, one_submission):
    hall.add_submission(one_submission)
    hall.faults.set("submissions", nested_depth=100_000)
    with pytest.raises(Unavailable, match="nested too deep"):
        _pull(app, client)
    with app.sessions() as s:
        assert s.scalars(select(Application)).first() is None and s.get(SyncCursor, intake.CURSOR) is None
    hall.faults.clear()
    assert _pull(app, client).outcomes == {"new": 1}    # the next run takes it in
