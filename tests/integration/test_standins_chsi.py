"""The 学信 stand-in: records by id_number + name, verification reports, the rate limit."""
import datetime as dt
from urllib.parse import urlencode

import pytest
import requests

from zhicheng.standins.chsi import Chsi

RECORD = {"record_id": "R1", "kind": "学历", "level": "本科", "school": "南京大学", "major": "电气工程",
          "study_form": "普通全日制", "enrollment_date": "2010-09-01", "graduation_date": "2014-06-30",
          "certificate_no": "102841201405001234"}
ID = "320102199001011234"


@pytest.fixture
def loaded(chsi):
    chsi.add_person(ID, "张三", [RECORD])
    chsi.add_report("ABCD1234EFGH5678", "2099-12-31", ID, "张三", RECORD)
    chsi.add_report("OLDC0DE000000000", "2020-01-01", ID, "张三", RECORD)
    return chsi


def records(call, srv, id_number, name):
    # signed exactly as sent: the name percent-encoded, as requests would send it anyway
    return call(srv, "GET", f"/api/v1/education-records?{urlencode({'id_number': id_number, 'name': name})}")


def test_records_of_a_person(loaded, standin_call):
    r = records(standin_call, loaded, ID, "张三")
    assert r.status_code == 200 and r.json() == {"records": [RECORD]}


def test_nobody_held_is_an_empty_list(loaded, standin_call):
    r = records(standin_call, loaded, "110101199003077777", "李四")
    assert r.status_code == 200 and r.json() == {"records": []}


def test_a_name_that_does_not_match_is_no_match(loaded, standin_call):
    r = records(standin_call, loaded, ID, "张叁")
    assert r.status_code == 404 and r.json()["error"] == "no_match"


def test_both_parameters_are_required(loaded, standin_call):
    r = standin_call(loaded, "GET", f"/api/v1/education-records?id_number={ID}")
    assert r.status_code == 400


def test_verification_reports(loaded, standin_call):
    r = standin_call(loaded, "GET", "/api/v1/verification-reports/ABCD1234EFGH5678")
    assert r.status_code == 200
    assert r.json() == {"online_code": "ABCD1234EFGH5678", "valid_until": "2099-12-31", "id_number": ID,
                        "name": "张三", "record": RECORD}
    r = standin_call(loaded, "GET", "/api/v1/verification-reports/OLDC0DE000000000")
    assert r.status_code == 410 and r.json()["error"] == "expired"
    for unknown in ("ZZZZ1234EFGH5678", "abc"):
        r = standin_call(loaded, "GET", f"/api/v1/verification-reports/{unknown}")
        assert r.status_code == 404 and r.json()["error"] == "not_found"


def test_expiry_is_against_a_settable_today(loaded, standin_call):
    requests.post(loaded.url + "/_admin/today", json={"today": "2019-06-01"}, timeout=5)
    assert standin_call(loaded, "GET", "/api/v1/verification-reports/OLDC0DE000000000").status_code == 200
    loaded.today_fixed = dt.date(2020, 1, 2)
    assert standin_call(loaded, "GET", "/api/v1/verification-reports/OLDC0DE000000000").status_code == 410


def test_admin_endpoints_load_people_and_reports(chsi, standin_call):
    requests.post(chsi.url + "/_admin/persons", json={"id_number": ID, "name": "王五", "records": [RECORD]},
                  timeout=5)
    requests.post(chsi.url + "/_admin/reports", json={"online_code": "QQQQ1234EFGH5678",
                  "valid_until": "2099-01-01", "id_number": ID, "name": "王五", "record": RECORD}, timeout=5)
    assert records(standin_call, chsi, ID, "王五").json()["records"] == [RECORD]
    assert standin_call(chsi, "GET", "/api/v1/verification-reports/QQQQ1234EFGH5678").status_code == 200


def test_year_directory_records_and_reports(tmp_path, standin_credentials, standin_call):
    import json
    (tmp_path / "y" / "chsi").mkdir(parents=True)
    (tmp_path / "y" / "chsi" / "records.jsonl").write_text(
        json.dumps({"id_number": ID, "name": "张三", "records": [RECORD]}, ensure_ascii=False) + "\n")
    (tmp_path / "y" / "chsi" / "reports.jsonl").write_text(json.dumps(
        {"online_code": "ABCD1234EFGH5678", "valid_until": "2099-12-31", "id_number": ID, "name": "张三",
         "record": RECORD}, ensure_ascii=False) + "\n")
    srv = Chsi(state_path=tmp_path / "c.sqlite", year_dir=tmp_path / "y",
               secrets=dict([standin_credentials])).start()
    try:
        assert records(standin_call, srv, ID, "张三").json()["records"] == [RECORD]
        assert standin_call(srv, "GET", "/api/v1/verification-reports/ABCD1234EFGH5678").status_code == 200
    finally:
        srv.stop()


def test_rate_limit_per_app_id_answers_429_with_retry_after(tmp_path, standin_credentials, standin_call):
    now = [1_800_000_000.0]
    srv = Chsi(state_path=tmp_path / "c.sqlite", secrets=dict([standin_credentials]), rate_limit=2,
               burst=2, clock=lambda: now[0]).start()
    try:
        target = f"/api/v1/education-records?id_number={ID}&name=x"  # ASCII: sent as signed
        assert [standin_call(srv, "GET", target, now=now[0]).status_code for _ in range(3)] == [200, 200, 429]
        r = standin_call(srv, "GET", target, now=now[0])
        assert r.json()["error"] == "rate_limited" and int(r.headers["Retry-After"]) >= 1
        now[0] += 0.5  # one token back at 2 a second
        assert [standin_call(srv, "GET", target, now=now[0]).status_code for _ in range(2)] == [200, 429]
        assert srv.stats["records"]["429"] == 3
        requests.post(srv.url + "/_admin/rate-limit", json={"rate": None}, timeout=5)
        assert all(standin_call(srv, "GET", target, now=now[0]).status_code == 200 for _ in range(5))
    finally:
        srv.stop()
