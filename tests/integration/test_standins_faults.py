"""Every switchable fault of the stand-ins, via the Python API and POST /_admin/faults."""
import datetime as dt
import json

import pytest
import requests

from zhicheng.domain.identity import make_id_number
from zhicheng.standins.hall import Hall
from zhicheng.standins.province import Province

UPSERT = "/api/v1/certificates:batchUpsert"


def record(no: str) -> dict:
    return {"certificate_no": no, "version": 1, "holder_name": "张三",
            "holder_id_number": make_id_number("320102", dt.date(1990, 1, 1), 7, "男"),
            "qualification_name": "工程师", "level": "中级", "series": "工程", "specialty": "电气工程",
            "obtained_by": "评审", "committee_name": None, "approved_on": "2026-11-01",
            "issued_on": "2026-11-20", "issuer": "江苏省人力资源和社会保障厅", "issuer_region_code": "320000",
            "filed_with_province": True, "status": "valid", "replaces": None, "document_sha256": None,
            "batch_root": None}


def subs(n: int) -> list[dict]:
    return [{"submission_id": f"S{i}", "revision": 1, "applicant": {"phone": "13800000000"}} for i in range(n)]


@pytest.fixture
def hall10(hall):
    for s in subs(10):
        hall.add_submission(s)
    return hall


def get_subs(call, hall, target="/api/v1/submissions?limit=10", **kw):
    return call(hall, "GET", target, **kw)


def test_error_rate_answers_the_chosen_statuses_in_the_error_shape(hall10, standin_call):
    hall10.faults.set("submissions", error_rate=1.0, error_statuses=[503])
    r = get_subs(standin_call, hall10)
    assert r.status_code == 503 and set(r.json()) == {"error", "message"}
    hall10.faults.set("submissions", error_rate=0.5)
    codes = {get_subs(standin_call, hall10).status_code for _ in range(40)}
    assert codes <= {200, 500, 502, 503} and 200 in codes and len(codes) > 2


def test_faults_are_per_endpoint(hall10, standin_call):
    hall10.faults.set("returns", error_rate=1.0)
    assert get_subs(standin_call, hall10).status_code == 200
    hall10.faults.set("*", error_rate=1.0)
    assert get_subs(standin_call, hall10).status_code >= 500
    hall10.faults.clear()
    assert get_subs(standin_call, hall10).status_code == 200


def test_a_429_burst_then_normal_answers(hall10, standin_call):
    hall10.faults.set("submissions", burst_429=3, retry_after=2)
    got = [get_subs(standin_call, hall10) for _ in range(4)]
    assert [r.status_code for r in got] == [429, 429, 429, 200]
    assert got[0].headers["Retry-After"] == "2" and got[0].json()["error"] == "rate_limited"


def test_rate_429(hall10, standin_call):
    hall10.faults.set("submissions", rate_429=1.0, retry_after=5)
    r = get_subs(standin_call, hall10)
    assert r.status_code == 429 and r.headers["Retry-After"] == "5"


def test_slow_answers_outlast_a_short_client_timeout(hall10, standin_call):
    hall10.faults.set("submissions", delay=1.0)
    with pytest.raises(requests.Timeout):
        get_subs(standin_call, hall10, timeout=0.2)


def test_non_json_bodies(hall10, standin_call):
    hall10.faults.set("submissions", non_json_rate=1.0)
    r = get_subs(standin_call, hall10)
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/html"
    with pytest.raises(ValueError):
        json.loads(r.text)
    hall10.faults.set("submissions", non_json_rate=1.0, non_json_status=502)
    assert get_subs(standin_call, hall10).status_code == 502


def test_truncated_and_malformed_bodies(hall10, standin_call):
    hall10.faults.set("submissions", truncate_rate=1.0)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        get_subs(standin_call, hall10)
    hall10.faults.set("submissions", malformed_rate=1.0)
    body = get_subs(standin_call, hall10).json()
    assert not isinstance(body["items"], list)


def test_duplicate_delivery_repeats_items_but_loses_none(hall10, standin_call):
    hall10.faults.set("submissions", duplicate_rate=0.5)
    seen, cursor = [], None
    for _ in range(20):
        target = "/api/v1/submissions?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = get_subs(standin_call, hall10, target).json()
        seen += [s["submission_id"] for s in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
    assert set(seen) == {f"S{i}" for i in range(10)} and len(seen) > 10


def test_drop_before_applying_leaves_no_trace(province, standin_call):
    province.faults.set("batch_upsert", drop_before_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        standin_call(province, "POST", UPSERT, {"records": [record("C1")]}, headers={"Idempotency-Key": "k"})
    assert province.applied_counts() == {}


def test_drop_after_applying_then_a_replay_gets_the_stored_answer(province, standin_call):
    province.faults.set("batch_upsert", drop_after_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        standin_call(province, "POST", UPSERT, {"records": [record("C1")]}, headers={"Idempotency-Key": "k"})
    assert province.applied_counts() == {"C1": 1}
    province.faults.clear()
    r = standin_call(province, "POST", UPSERT, {"records": [record("C1")]}, headers={"Idempotency-Key": "k"})
    assert r.json()["results"][0]["status"] == "created" and province.applied_counts() == {"C1": 1}


def test_hall_return_applied_before_the_connection_drops(hall10, standin_call):
    body = {"revision": 1, "stage": "s", "reasons": [{"code": "c", "message": "m"}], "idempotency_key": "r"}
    with hall10.faults.switched("returns", drop_after_rate=1.0):
        with pytest.raises(requests.ConnectionError):
            standin_call(hall10, "POST", "/api/v1/submissions/S1/returns", body)
    r = standin_call(hall10, "POST", "/api/v1/submissions/S1/returns", body)
    assert r.status_code == 200 and hall10.sms_sent == 1


def test_a_bad_signature_is_refused_whatever_the_faults(hall10):
    hall10.faults.set("*", error_rate=1.0)
    assert requests.get(hall10.url + "/api/v1/submissions", timeout=5).status_code == 401


def test_faults_switched_over_http(hall10, standin_call):
    url = hall10.url + "/_admin/faults"
    r = requests.post(url, json={"endpoint": "submissions", "faults": {"error_rate": 1.0}}, timeout=5)
    assert r.json() == {"submissions": {"error_rate": 1.0}}
    assert requests.get(url, timeout=5).json() == {"submissions": {"error_rate": 1.0}}
    assert get_subs(standin_call, hall10).status_code >= 500
    bad = requests.post(url, json={"endpoint": "submissions", "faults": {"eror_rate": 1}}, timeout=5)
    assert bad.status_code == 422 and bad.json()["error"] == "bad_faults"
    assert requests.post(url, json={"clear": True}, timeout=5).json() == {}
    assert get_subs(standin_call, hall10).status_code == 200
    stats = requests.get(hall10.url + "/_admin/stats", timeout=5).json()["submissions"]
    assert stats["200"] == 1 and sum(v for k, v in stats.items() if k.startswith("5")) == 1


def test_the_same_seed_gives_the_same_faults(tmp_path, standin_credentials, standin_call):
    def run(seed: int, folder: str) -> list[int]:
        srv = Province(state_path=tmp_path / folder / "p.sqlite", secrets=dict([standin_credentials]),
                       seed=seed).start()
        srv.faults.set("get_certificate", error_rate=0.3, rate_429=0.2)
        try:
            return [standin_call(srv, "GET", "/api/v1/certificates/X").status_code for _ in range(30)]
        finally:
            srv.stop()
    assert run(7, "a") == run(7, "b")
    assert run(7, "c") != run(8, "d")


def test_hall_state_survives_a_restart(tmp_path, standin_credentials, standin_call):
    srv = Hall(state_path=tmp_path / "h.sqlite", secrets=dict([standin_credentials])).start()
    srv.add_submission(subs(1)[0])
    srv.stop()
    again = Hall(state_path=tmp_path / "h.sqlite", secrets=dict([standin_credentials])).start()
    try:
        assert len(get_subs(standin_call, again).json()["items"]) == 1
    finally:
        again.stop()
