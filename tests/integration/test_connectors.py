"""The connectors against the stand-ins: the contract's caller duties, fault by fault.

Waits are recorded, not slept: each client gets `sleep=waits.append`, so back-off and
Retry-After are asserted without time passing.
"""
import hashlib
import tracemalloc

import pytest

from zhicheng.config import get_config
from zhicheng.connectors.chsi import ChsiClient
from zhicheng.connectors.errors import Misconfigured, Rejected, Unavailable
from zhicheng.connectors.hall import HallClient, TooLarge
from zhicheng.connectors.province import ProvinceClient
from zhicheng.domain.identity import make_id_number
from zhicheng.settings import Settings

import datetime as dt


def settings_for(system, server, creds, secret=None):
    app_id, real_secret = creds
    return Settings(**{f"{system}_url": server.url, f"{system}_app_id": app_id,
                       f"{system}_app_secret": secret or real_secret})


@pytest.fixture
def waits():
    return []


def submission(i, revision=1):
    return {"submission_id": f"S{i:04d}", "revision": revision, "track": "评审", "batch_year": 2026,
            "applicant": {"name": f"申请人{i}", "id_number": "x", "phone": f"1380000{i:04d}"},
            "materials": [], "x_extra": {"kept": True}}


def drain(client, limit=7):
    seen, cursor = [], None
    while True:
        page = client.submissions(cursor, limit)
        seen += page.items
        if page.next_cursor is None:
            return seen, cursor
        cursor = page.next_cursor


def test_hall_pages_survive_errors_drops_and_duplicates(hall, standin_credentials, waits):
    for i in range(30):
        hall.add_submission(submission(i))
    hall.faults.set("submissions", error_rate=0.3, drop_before_rate=0.1, non_json_rate=0.1, duplicate_rate=0.3)
    with HallClient.from_settings(settings_for("hall", hall, standin_credentials), get_config(),
                                  sleep=waits.append, seed=1) as client:
        items, last = drain(client)
    assert {s["submission_id"] for s in items} == {f"S{i:04d}" for i in range(30)}
    assert len(items) >= 30 and items[0]["x_extra"] == {"kept": True}
    assert waits, "the faults should have cost retries"
    assert all(0 <= w <= 30 for w in waits)


def test_hall_material_bytes_and_missing(hall, standin_credentials):
    data = b"%PDF-1.4 not much of a pdf"
    hall.add_submission(submission(1), {"M1": (data, "application/pdf")})
    with HallClient.from_settings(settings_for("hall", hall, standin_credentials), get_config()) as client:
        got = client.material("S0001", "M1", max_bytes=len(data))
        assert got.content == data and got.sha256 == hashlib.sha256(data).hexdigest()
        assert got.content_type == "application/pdf"
        assert client.material("S0001", "NOPE", max_bytes=len(data)) is None
        assert client.material("S0001", "M1", max_bytes=len(data) - 1) == TooLarge(len(data), len(data) - 1)


@pytest.mark.parametrize("with_length", [True, False])
def test_hall_material_beyond_its_cap_is_not_read_on(hall, standin_credentials, waits, with_length):
    """400 MiB where 500 KB may come: refused at the cap, by its Content-Length or while
    reading, never retried, and never more than the cap held."""
    hall.add_submission(submission(1), {"M1": (b"%PDF-1.4 small", "application/pdf")})
    hall.faults.set("material", oversize_bytes=400 * 2**20, oversize_length=with_length)
    with HallClient.from_settings(settings_for("hall", hall, standin_credentials), get_config(),
                                  sleep=waits.append) as client:
        tracemalloc.start()
        try:
            got = client.material("S0001", "M1", max_bytes=500 * 1024)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert got == TooLarge(400 * 2**20 if with_length else None, 500 * 1024)
    assert peak < 50 * 2**20 and not waits
    assert hall.stats["material"] == {"oversized": 1}


def test_deeply_nested_json_is_a_bad_answer_not_a_crash(hall, standin_credentials, waits):
    """Beyond what the decoder can (RecursionError) and beyond what we read
    (`max_json_depth`): like a body that is not JSON, transient, then Unavailable."""
    for depth, why in ((100_000, "nested too deep to read"), (100, "nested deeper than 64 levels")):
        hall.faults.set("submissions", nested_depth=depth)
        with HallClient.from_settings(settings_for("hall", hall, standin_credentials), get_config(),
                                      sleep=waits.append) as client, pytest.raises(Unavailable, match=why):
            client.submissions(None, 10)
    assert hall.stats["submissions"]["nested"] == 10 and len(waits) == 8


def test_a_json_answer_beyond_its_limit_is_a_bad_answer(hall, standin_credentials, waits):
    import dataclasses

    from zhicheng.connectors.http import SignedClient
    from zhicheng.connectors.setup import policy_for
    policy = dataclasses.replace(policy_for("hall", get_config()), max_answer_mb=1, max_attempts=2)
    hall.faults.set("submissions", oversize_bytes=8 * 2**20, oversize_length=False)
    app_id, secret = standin_credentials
    with HallClient(SignedClient("hall", url=hall.url, app_id=app_id, secret=secret, policy=policy,
                                 sleep=waits.append)) as client, pytest.raises(Unavailable, match="beyond 1 MB"):
        client.submissions(None, 10)


def test_return_applied_then_connection_dropped_sends_one_sms(hall, standin_credentials, waits):
    hall.add_submission(submission(1))
    hall.faults.set("returns", drop_after_rate=1.0)
    reasons = [{"code": "material.not_pdf", "message": "学历证书不是PDF文件，请重新上传"}]
    with HallClient.from_settings(settings_for("hall", hall, standin_credentials), get_config(),
                                  sleep=waits.append) as client:
        with pytest.raises(Unavailable) as exc:
            client.post_return("S0001", revision=1, stage="评审申报", reasons=reasons, idempotency_key="k-1")
        assert "hall" in str(exc.value) and "POST /api/v1/submissions/S0001/returns" in str(exc.value)
        hall.faults.clear()
        receipt = client.post_return("S0001", revision=1, stage="评审申报", reasons=reasons,
                                     idempotency_key="k-1")
    assert receipt.replayed and hall.sms_sent == 1 and len(hall.returns()) == 1


REASONS = [{"code": "x", "message": "说明"}]


def test_unknown_submission_and_bad_body_are_rejected_not_retried(hall, standin_credentials, waits):
    hall.add_submission(submission(1))
    with HallClient.from_settings(settings_for("hall", hall, standin_credentials), get_config(),
                                  sleep=waits.append) as client:
        with pytest.raises(Rejected, match="not_found|does not know"):
            client.post_return("NOPE", revision=1, stage="评审申报", reasons=REASONS, idempotency_key="k-2")
        with pytest.raises(Rejected) as exc:
            client.post_return("S0001", revision=9, stage="评审申报", reasons=REASONS, idempotency_key="k-3")
    assert exc.value.status == 422 and waits == []


def test_wrong_secret_is_a_configuration_problem(hall, standin_credentials):
    s = settings_for("hall", hall, standin_credentials, secret="wrong-secret-0000000000")
    with HallClient.from_settings(s, get_config()) as client, pytest.raises(Misconfigured) as exc:
        client.submissions()
    assert exc.value.status == 401 and "ZHICHENG_" in str(exc.value)


def test_missing_settings_name_the_variables():
    with pytest.raises(Misconfigured, match="ZHICHENG_PROVINCE_URL"):
        ProvinceClient.from_settings(Settings(province_url=None), get_config())


def test_429_waits_retry_after_then_answers(chsi, standin_credentials, waits):
    person = make_id_number("320102", dt.date(1990, 1, 2), 7, "女")
    chsi.add_person(person, "王小明", [])
    chsi.faults.set("records", burst_429=2, retry_after=4)
    with ChsiClient.from_settings(settings_for("chsi", chsi, standin_credentials), get_config(),
                                  sleep=waits.append) as client:
        answer = client.education_records(person, "王小明")
        mismatch = client.education_records(person, "王晓明")
    assert answer == (200, {"records": []})
    assert mismatch.status == 404 and mismatch.body["error"] == "no_match"
    assert [w for w in waits if w >= 4] == [4.0, 4.0]


def test_errors_beyond_the_attempts_give_up_as_unavailable(chsi, standin_credentials, waits):
    chsi.faults.set("reports", error_rate=1.0)
    with ChsiClient.from_settings(settings_for("chsi", chsi, standin_credentials), get_config(),
                                  sleep=waits.append) as client, pytest.raises(Unavailable) as exc:
        client.verification_report("ABCD1234EFGH5678")
    policy = client.http.policy
    assert len(waits) == policy.max_attempts - 1 and "学信" in str(exc.value)
    assert all(w <= min(policy.backoff_cap_seconds, policy.backoff_base_seconds * 2 ** i)
               for i, w in enumerate(waits))


def test_wrong_shape_is_retried(chsi, standin_credentials, waits):
    person = make_id_number("320102", dt.date(1991, 3, 4), 9, "男")
    chsi.add_person(person, "李雷", [])
    chsi.faults.set("records", malformed_rate=0.3)
    with ChsiClient.from_settings(settings_for("chsi", chsi, standin_credentials), get_config(),
                                  sleep=waits.append, seed=3) as client:
        answers = [client.education_records(person, "李雷") for _ in range(6)]
    assert all(a == (200, {"records": []}) for a in answers) and waits


def test_reports_expired_unknown_and_malformed_codes(chsi, standin_credentials):
    chsi.today_fixed = dt.date(2026, 6, 1)
    record = {"record_id": "R1", "kind": "学历", "level": "本科", "school": "南京大学", "major": "物理学",
              "study_form": "普通全日制", "enrollment_date": "2008-09-01", "graduation_date": "2012-06-30",
              "certificate_no": "102841201205001234"}
    chsi.add_report("AAAA1111BBBB2222", "2026-01-01", "320102199001020011", "张三", record)
    with ChsiClient.from_settings(settings_for("chsi", chsi, standin_credentials), get_config()) as client:
        assert client.verification_report("AAAA1111BBBB2222").status == 410
        assert client.verification_report("ZZZZ1111BBBB2222").status == 404
        assert client.verification_report("short").status == 404


def record(n, version=1, **over):
    base = {"certificate_no": n, "version": version, "holder_name": "张三",
            "holder_id_number": make_id_number("321202", dt.date(1985, 5, 5), 3, "男"),
            "qualification_name": "工程师", "level": "中级", "series": "工程", "specialty": "电气工程",
            "obtained_by": "评审", "committee_name": "泰州市工程系列中级评委会", "approved_on": "2026-12-01",
            "issued_on": "2026-12-28", "issuer": "泰州市职称办", "issuer_region_code": "321200",
            "filed_with_province": False, "status": "valid", "replaces": None,
            "document_sha256": "ab" * 32, "batch_root": "cd" * 32}
    return {**base, **over}


def test_batch_applied_then_timeout_is_replayed_once(province, standin_credentials, waits):
    recs = [record(f"32120020263{i:06d}X") for i in range(20)]
    province.faults.set("batch_upsert", drop_after_rate=1.0)
    client = ProvinceClient.from_settings(settings_for("province", province, standin_credentials), get_config(),
                                          sleep=waits.append)
    with client, pytest.raises(Unavailable):
        client.batch_upsert(recs, idempotency_key="batch-1")
    province.faults.clear()
    with ProvinceClient.from_settings(settings_for("province", province, standin_credentials),
                                      get_config()) as again:
        results = again.batch_upsert(recs, idempotency_key="batch-1")
        with pytest.raises(Rejected) as reused:
            again.batch_upsert(recs[:3], idempotency_key="batch-1")
        newer = again.batch_upsert([record(recs[0]["certificate_no"], 2, status="revoked")],
                                   idempotency_key="batch-2")
        older = again.batch_upsert([recs[1]], idempotency_key="batch-3")
        assert again.get(recs[0]["certificate_no"])["status"] == "revoked"
        assert again.get("NOPE") is None
    assert [r.status for r in results] == ["created"] * 20
    assert reused.value.code == "idempotency_key_reused"
    assert newer[0].status == "updated" and older[0].status == "unchanged"
    counts = province.applied_counts()
    assert counts[recs[0]["certificate_no"]] == 2 and all(counts[r["certificate_no"]] == 1 for r in recs[1:])


def test_listing_pages_through_everything(province, standin_credentials):
    recs = [record(f"32120020263{i:06d}X") for i in range(25)]
    with ProvinceClient.from_settings(settings_for("province", province, standin_credentials),
                                      get_config()) as client:
        client.batch_upsert(recs, idempotency_key="all")
        got = list(client.all(issuer_region_code="321200", year=2026, page_size=10))
        assert client.page(issuer_region_code="320100", year=2026) == ([], 0)
    assert [r["certificate_no"] for r in got] == sorted(r["certificate_no"] for r in recs)


def test_the_environments_proxy_settings_are_honoured(hall, standin_credentials, waits, monkeypatch):
    hall.add_submission(submission(1))
    settings = settings_for("hall", hall, standin_credentials)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")   # nothing listens there
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with HallClient.from_settings(settings, get_config(), sleep=waits.append) as client, \
            pytest.raises(Unavailable):
        client.submissions()
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with HallClient.from_settings(settings, get_config(), sleep=waits.append) as client:
        assert [s["submission_id"] for s in client.submissions().items] == ["S0001"]
