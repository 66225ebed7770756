"""Every stand-in refuses requests the signing contract refuses (external-systems.md)."""
import time

import pytest
import requests

from zhicheng.domain.signing import signed_headers

ENDPOINTS = {
    "hall": "/api/v1/submissions?limit=1",
    "chsi": "/api/v1/education-records?id_number=1&name=x",
    "province": "/api/v1/certificates/none",
}


@pytest.fixture(params=sorted(ENDPOINTS))
def server(request):
    return request.param, request.getfixturevalue(request.param)


def test_a_signed_request_is_served(server, standin_call):
    name, srv = server
    assert standin_call(srv, "GET", ENDPOINTS[name]).status_code in (200, 404)


def test_wrong_signature_and_unknown_app_are_bad_signature(server, standin_credentials):
    name, srv = server
    app_id, secret = standin_credentials
    target = ENDPOINTS[name]
    for aid, key in ((app_id, "not-the-secret"), ("someone-else", secret)):
        h = signed_headers(aid, key, "GET", target, b"", int(time.time()))
        r = requests.get(srv.url + target, headers=h, timeout=5)
        assert r.status_code == 401 and r.json()["error"] == "bad_signature"
        assert r.json()["message"]


def test_no_signing_headers_at_all(server):
    name, srv = server
    r = requests.get(srv.url + ENDPOINTS[name], timeout=5)
    assert r.status_code == 401 and r.json()["error"] == "bad_signature"


def test_signature_covers_the_query_as_sent(hall, standin_credentials):
    app_id, secret = standin_credentials
    h = signed_headers(app_id, secret, "GET", "/api/v1/submissions?limit=1", b"", int(time.time()))
    r = requests.get(hall.url + "/api/v1/submissions?limit=2", headers=h, timeout=5)
    assert r.json()["error"] == "bad_signature"


def test_signature_covers_the_body(province, standin_credentials):
    app_id, secret = standin_credentials
    h = signed_headers(app_id, secret, "POST", "/api/v1/certificates:batchUpsert", b'{"records":[]}',
                       int(time.time()))
    r = requests.post(province.url + "/api/v1/certificates:batchUpsert", data=b'{"records":[1]}',
                      headers={**h, "Idempotency-Key": "k"}, timeout=5)
    assert r.json()["error"] == "bad_signature"


@pytest.mark.parametrize("skew, status", [(-301, 401), (301, 401), (-300, 200), (300, 200)])
def test_timestamp_more_than_300s_off_is_stale(tmp_path, standin_credentials, standin_call, skew, status):
    from zhicheng.standins.hall import Hall
    now = 1_800_000_000.0      # the hall's clock stands still: a loaded machine cannot move the edge
    srv = Hall(state_path=tmp_path / "h.sqlite", secrets=dict([standin_credentials]), clock=lambda: now).start()
    try:
        r = standin_call(srv, "GET", "/api/v1/submissions", now=now + skew)
    finally:
        srv.stop()
    assert r.status_code == status
    if status == 401:
        assert r.json()["error"] == "stale_timestamp"


def test_a_nonce_is_refused_the_second_time(hall, standin_call):
    nonce = "Abc123" * 4
    assert standin_call(hall, "GET", "/api/v1/submissions", nonce=nonce).status_code == 200
    r = standin_call(hall, "GET", "/api/v1/submissions?limit=5", nonce=nonce)
    assert r.status_code == 409 and r.json()["error"] == "nonce_reused"


def test_a_nonce_is_forgotten_after_ten_minutes(tmp_path, standin_credentials, standin_call):
    from zhicheng.standins.hall import Hall
    now = [1_800_000_000.0]
    srv = Hall(state_path=tmp_path / "h.sqlite", secrets=dict([standin_credentials]),
               clock=lambda: now[0]).start()
    try:
        nonce = "N0nce" * 4
        assert standin_call(srv, "GET", "/api/v1/submissions", now=now[0], nonce=nonce).status_code == 200
        now[0] += 599
        assert standin_call(srv, "GET", "/api/v1/submissions", now=now[0], nonce=nonce).status_code == 409
        now[0] += 602
        assert standin_call(srv, "GET", "/api/v1/submissions", now=now[0], nonce=nonce).status_code == 200
    finally:
        srv.stop()


def test_malformed_nonce_is_refused(hall, standin_call):
    r = standin_call(hall, "GET", "/api/v1/submissions", nonce="short")
    assert r.status_code == 401 and r.json()["error"] == "bad_signature"


def test_unknown_endpoints_and_methods_answer_in_the_error_shape(hall, standin_call):
    r = standin_call(hall, "GET", "/api/v1/nothing-here")
    assert r.status_code == 404 and set(r.json()) == {"error", "message"}
    r = standin_call(hall, "DELETE", "/api/v1/submissions")
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"


def test_admin_endpoints_need_no_signature(hall):
    assert requests.get(hall.url + "/_admin/health", timeout=5).json() == {"ok": True}
