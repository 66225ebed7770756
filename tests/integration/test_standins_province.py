"""The province stand-in: idempotency keys, versions, rejections, reconciliation reads."""
import datetime as dt

import pytest
import requests

from zhicheng.domain.identity import make_id_number

UPSERT = "/api/v1/certificates:batchUpsert"


def record(no: str, version: int = 1, **over) -> dict:
    rec = {"certificate_no": no, "version": version, "holder_name": "张三",
           "holder_id_number": make_id_number("320102", dt.date(1990, 1, 1), 7, "男"),
           "qualification_name": "工程师", "level": "中级", "series": "工程", "specialty": "电气工程",
           "obtained_by": "评审", "committee_name": "江苏省工程系列电气工程专业中级职称评审委员会",
           "approved_on": "2026-11-01", "issued_on": "2026-11-20", "issuer": "江苏省人力资源和社会保障厅",
           "issuer_region_code": "320000", "filed_with_province": True, "status": "valid",
           "replaces": None, "document_sha256": "a" * 64, "batch_root": None}
    rec.update(over)
    return rec


@pytest.fixture
def upsert(province, standin_call):
    def send(records, key):
        return standin_call(province, "POST", UPSERT, {"records": records}, headers={"Idempotency-Key": key})
    return send


def statuses(resp):
    assert resp.status_code == 200, resp.text
    return [(r["certificate_no"], r["status"], r["error"]) for r in resp.json()["results"]]


def test_created_updated_unchanged_by_version(upsert, province):
    assert statuses(upsert([record("C1"), record("C2")], "k1")) == [
        ("C1", "created", None), ("C2", "created", None)]
    assert statuses(upsert([record("C1", 2, status="revoked"), record("C2"), record("C1", 1)], "k2")) == [
        ("C1", "updated", None), ("C2", "unchanged", None), ("C1", "unchanged", None)]
    assert province.record("C1")["status"] == "revoked" and province.record("C1")["version"] == 2
    assert province.applied_counts() == {"C1": 2, "C2": 1}


def test_same_version_with_other_content_is_a_conflict(upsert, province):
    upsert([record("C1")], "k1")
    assert statuses(upsert([record("C1", holder_name="李四")], "k2")) == [("C1", "rejected", "version_conflict")]
    assert province.record("C1")["holder_name"] == "张三"


def test_a_replay_returns_the_stored_answer_and_applies_nothing(upsert, province):
    first = upsert([record("C1")], "k1")
    upsert([record("C1", 2)], "k2")
    replay = upsert([record("C1")], "k1")
    assert replay.json() == first.json()
    assert province.record("C1")["version"] == 2 and province.applied_counts() == {"C1": 2}


def test_the_same_key_with_another_body_is_422(upsert):
    upsert([record("C1")], "k1")
    r = upsert([record("C9")], "k1")
    assert r.status_code == 422 and r.json()["error"] == "idempotency_key_reused"


def test_idempotency_key_is_required_and_batch_size_bounded(province, standin_call, upsert):
    r = standin_call(province, "POST", UPSERT, {"records": [record("C1")]})
    assert r.status_code == 400 and r.json()["error"] == "missing_idempotency_key"
    assert upsert([], "k").status_code == 422
    assert upsert([record(f"C{i}") for i in range(501)], "k").status_code == 422
    r = standin_call(province, "POST", UPSERT, {"nope": 1}, headers={"Idempotency-Key": "k"})
    assert r.status_code == 400
    assert province.applied_counts() == {}


def test_per_record_rejections_do_not_fail_the_batch(upsert, province):
    bad_id = record("C2", holder_id_number="320102199001011230")
    missing = {k: v for k, v in record("C3").items() if k != "issuer"}
    got = statuses(upsert([record("C1"), bad_id, missing, record("C4", level="大师级"), "x"], "k"))
    assert got == [("C1", "created", None), ("C2", "rejected", "invalid_field:holder_id_number"),
                   ("C3", "rejected", "missing_field:issuer"), ("C4", "rejected", "invalid_field:level"),
                   (None, "rejected", "invalid_record")]
    assert province.applied_counts() == {"C1": 1}


def test_unknown_extra_fields_are_kept(upsert, province, standin_call):
    upsert([record("C1", extra_note="附加")], "k")
    assert standin_call(province, "GET", "/api/v1/certificates/C1").json()["extra_note"] == "附加"


def test_get_one(upsert, province, standin_call):
    upsert([record("C1")], "k")
    assert standin_call(province, "GET", "/api/v1/certificates/C1").json() == record("C1")
    r = standin_call(province, "GET", "/api/v1/certificates/C404")
    assert r.status_code == 404 and r.json()["error"] == "not_found"


def test_list_by_region_and_issue_year_with_pages(upsert, province, standin_call):
    upsert([record(f"A{i:02d}") for i in range(5)] + [record("B1", issuer_region_code="320100"),
                                                      record("B2", issued_on="2025-12-30")], "k")
    base = "/api/v1/certificates?issuer_region_code=320000&year=2026"
    p1 = standin_call(province, "GET", base + "&page=1&page_size=2").json()
    p3 = standin_call(province, "GET", base + "&page=3&page_size=2").json()
    assert p1["total"] == 5 and [r["certificate_no"] for r in p1["items"]] == ["A00", "A01"]
    assert [r["certificate_no"] for r in p3["items"]] == ["A04"]
    y2025 = standin_call(province, "GET", "/api/v1/certificates?issuer_region_code=320000&year=2025").json()
    assert [r["certificate_no"] for r in y2025["items"]] == ["B2"]
    for bad in ("page=0", "page_size=1001", "year=abc"):
        assert standin_call(province, "GET", f"/api/v1/certificates?{bad}").status_code == 400


def test_admin_applied_counts(upsert, province):
    upsert([record("C1")], "k")
    assert requests.get(province.url + "/_admin/applied", timeout=5).json() == {"C1": 1}
