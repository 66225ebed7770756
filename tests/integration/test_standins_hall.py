"""The hall stand-in: paging with opaque cursors, materials, returns and notifications."""
import hashlib
import json

import pytest
import requests

from zhicheng.standins.hall import Hall

pytestmark = pytest.mark.usefixtures("year_dir")  # the hall fixture then loads it


def submission(i: int, revision: int = 1) -> dict:
    return {"submission_id": f"S{i:04d}", "revision": revision, "track": "评审", "batch_year": 2026,
            "applicant": {"name": f"申请人{i}", "id_number": f"ID{i:016d}", "phone": f"1380000{i:04d}"},
            "materials": [{"material_id": "M1", "type": "diploma", "file_name": "毕业证.pdf"}],
            "x_unknown_extra": {"kept": True}}


@pytest.fixture
def year_dir(tmp_path):
    """A tiny year directory in the format of docs/year-directory.md."""
    root = tmp_path / "year"
    (root / "materials" / "S0001").mkdir(parents=True)
    (root / "submissions.jsonl").write_text(
        "\n".join(json.dumps(submission(i), ensure_ascii=False) for i in range(12)) + "\n", encoding="utf-8")
    (root / "materials" / "S0001" / "M1.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a pdf")
    (root / "materials.jsonl").write_text(json.dumps(
        {"submission_id": "S0001", "material_id": "M1", "path": "materials/S0001/M1.jpg",
         "content_type": "image/jpeg"}) + "\n", encoding="utf-8")
    return root


def pull(call, hall, limit):
    """All items, following cursors until null; the items and the last non-null cursor."""
    items, cursor, last = [], None, None
    while True:
        target = f"/api/v1/submissions?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        page = call(hall, "GET", target).json()
        items += page["items"]
        if page["next_cursor"] is None:
            return items, last
        cursor = last = page["next_cursor"]


def test_pages_follow_submission_order_and_keep_unknown_fields(hall, standin_call):
    items, _ = pull(standin_call, hall, 5)
    assert [s["submission_id"] for s in items] == [f"S{i:04d}" for i in range(12)]
    assert items[0]["x_unknown_extra"] == {"kept": True}


def test_default_limit_and_the_bounds_of_limit(hall, standin_call):
    assert len(standin_call(hall, "GET", "/api/v1/submissions").json()["items"]) == 12
    for bad in ("0", "501", "x"):
        r = standin_call(hall, "GET", f"/api/v1/submissions?limit={bad}")
        assert r.status_code == 400 and r.json()["error"] == "bad_request"


def test_polling_with_the_last_cursor_returns_only_new_submissions(hall, standin_call):
    _, cursor = pull(standin_call, hall, 5)
    page = standin_call(hall, "GET", f"/api/v1/submissions?cursor={cursor}").json()
    assert page == {"items": [], "next_cursor": None}
    hall.add_submission(submission(3, revision=2))
    page = standin_call(hall, "GET", f"/api/v1/submissions?cursor={cursor}").json()
    assert [(s["submission_id"], s["revision"]) for s in page["items"]] == [("S0003", 2)]


def test_a_cursor_the_hall_did_not_make_is_400(hall, standin_call):
    r = standin_call(hall, "GET", "/api/v1/submissions?cursor=garbage!")
    assert r.status_code == 400 and r.json()["error"] == "bad_cursor"


def test_resubmission_needs_a_higher_revision(hall):
    with pytest.raises(ValueError):
        hall.add_submission(submission(3, revision=1))


def test_resubmission_through_the_admin_endpoint_with_a_new_file(hall, standin_call):
    import base64
    doc = {"submission": submission(5, revision=2),
           "materials": [{"material_id": "M9", "content_type": "application/pdf",
                          "content_base64": base64.b64encode(b"%PDF-1.7 new").decode()}]}
    assert requests.post(hall.url + "/_admin/submissions", json=doc, timeout=5).status_code == 201
    assert requests.post(hall.url + "/_admin/submissions", json=doc, timeout=5).status_code == 422
    r = standin_call(hall, "GET", "/api/v1/submissions/S0005/materials/M9")
    assert r.content == b"%PDF-1.7 new"
    assert hall.submission_count() == 13


def test_material_bytes_as_uploaded_with_their_hash(hall, standin_call):
    r = standin_call(hall, "GET", "/api/v1/submissions/S0001/materials/M1")
    assert r.status_code == 200 and r.content.startswith(b"\xff\xd8")
    assert r.headers["Content-Type"] == "image/jpeg"
    assert r.headers["X-Content-SHA256"] == hashlib.sha256(r.content).hexdigest()
    r = standin_call(hall, "GET", "/api/v1/submissions/S0001/materials/NOPE")
    assert r.status_code == 404 and r.json()["error"] == "not_found"


def test_loading_the_same_year_again_after_a_restart_adds_nothing(hall, year_dir, tmp_path,
                                                                   standin_credentials):
    again = Hall(state_path=hall.store.path, year_dir=year_dir, secrets=dict([standin_credentials]))
    assert again.submission_count() == 12
    again.store.close()


RETURN = {"revision": 1, "stage": "主管部门审核",
          "reasons": [{"code": "material.missing", "message": "缺少学历证书"}],
          "idempotency_key": "return:S0002:r1:主管部门审核"}


def test_a_return_is_recorded_once_and_texted_once(hall, standin_call):
    first = standin_call(hall, "POST", "/api/v1/submissions/S0002/returns", RETURN)
    again = standin_call(hall, "POST", "/api/v1/submissions/S0002/returns", RETURN)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["return_id"] == again.json()["return_id"]
    assert hall.sms_sent == 1
    assert "缺少学历证书" in hall.sms()[0]["text"] and hall.sms()[0]["phone"] == "13800000002"
    [ret] = hall.returns()
    assert ret["submission_id"] == "S0002" and ret["reasons"] == RETURN["reasons"]
    assert requests.get(hall.url + "/_admin/returns", timeout=5).json()[0]["return_id"] == ret["return_id"]


def test_returns_of_unknown_submissions_revisions_or_bad_bodies(hall, standin_call):
    r = standin_call(hall, "POST", "/api/v1/submissions/NOPE/returns", RETURN)
    assert r.status_code == 404
    r = standin_call(hall, "POST", "/api/v1/submissions/S0002/returns",
                     {**RETURN, "revision": 7, "idempotency_key": "other"})
    assert r.status_code == 422 and r.json()["error"] == "unknown_revision"
    for broken in ({**RETURN, "reasons": []}, {**RETURN, "stage": ""}, {k: v for k, v in RETURN.items()
                                                                        if k != "idempotency_key"}):
        r = standin_call(hall, "POST", "/api/v1/submissions/S0002/returns", broken)
        assert r.status_code == 422 and set(r.json()) == {"error", "message"}
    r = standin_call(hall, "POST", "/api/v1/submissions/S0002/returns", body=b"{not json")
    assert r.status_code == 400 and r.json()["error"] == "bad_json"
    assert hall.sms_sent == 0


def test_notifications_are_idempotent(hall, standin_call):
    body = {"id_number": "ID0000000000000004", "template": "issued", "params": {"证书编号": "X1"},
            "idempotency_key": "issued:X1"}
    first = standin_call(hall, "POST", "/api/v1/notifications", body)
    again = standin_call(hall, "POST", "/api/v1/notifications", body)
    assert first.status_code == 202 and again.status_code == 200
    assert first.json() == again.json()
    assert hall.sms_sent == 1 and hall.sms()[0]["phone"] == "13800000004"
    assert hall.notifications()[0]["template"] == "issued"
    bad = standin_call(hall, "POST", "/api/v1/notifications", {**body, "template": "party",
                                                              "idempotency_key": "z"})
    assert bad.status_code == 422 and bad.json()["error"] == "unknown_template"
    assert len(requests.get(hall.url + "/_admin/sms", timeout=5).json()) == 1


def test_ill_typed_fields_are_served_as_submitted(hall, standin_call):
    odd = {**submission(40), "batch_year": "2026年", "education": {"学历": "本科"},
           "applicant": {"name": "某", "id_number": "X", "phone": 13800000040}}
    hall.add_submission(odd)
    items = standin_call(hall, "GET", "/api/v1/submissions?limit=500").json()["items"]
    assert items[-1] == odd
    body = {"id_number": "X", "template": "issued", "params": {}, "idempotency_key": "n-odd"}
    standin_call(hall, "POST", "/api/v1/notifications", body)
    assert hall.sms()[-1]["phone"] == "13800000040"
