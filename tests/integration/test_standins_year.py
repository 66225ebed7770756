"""A generated year directory served by the stand-ins: every submission, file and 学信 person."""
import hashlib
import json
from urllib.parse import urlencode

import pytest

pytestmark = pytest.mark.usefixtures("year_dir")


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    from zhicheng.standins.generator import generate
    out = tmp_path_factory.mktemp("year")
    generate(out, applications=20, seed=11)
    return out


@pytest.fixture
def year_dir(generated):
    return generated


def test_every_submission_and_file_is_served_as_written(standins, standin_call, generated):
    manifest = json.loads((generated / "manifest.json").read_text(encoding="utf-8"))
    mismatched = {(f["submission_id"], f["material_id"]) for f in manifest["faults"]
                  if f["code"] == "material.hash_mismatch"}
    items, cursor = [], None
    while True:
        page = standin_call(standins.hall, "GET", "/api/v1/submissions?limit=6" +
                            (f"&cursor={cursor}" if cursor else "")).json()
        items += page["items"]
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
    assert len(items) == manifest["counts"]["submissions"]
    served = 0
    for sub in items:
        for m in sub.get("materials") or []:
            r = standin_call(standins.hall, "GET",
                             f"/api/v1/submissions/{sub['submission_id']}/materials/{m['material_id']}")
            assert r.status_code == 200
            assert r.headers["X-Content-SHA256"] == hashlib.sha256(r.content).hexdigest()
            same = r.headers["X-Content-SHA256"] == m["sha256"]
            assert same != ((sub["submission_id"], m["material_id"]) in mismatched)
            served += 1
    assert served == manifest["counts"]["materials"]


def test_every_chsi_person_answers(standins, standin_call, generated):
    people = [json.loads(line) for line in (generated / "chsi" / "records.jsonl").read_text(
        encoding="utf-8").splitlines() if line.strip()]
    for p in people:
        r = standin_call(standins.chsi, "GET", "/api/v1/education-records?" +
                         urlencode({"id_number": p["id_number"], "name": p["name"]}))
        assert r.status_code == 200 and len(r.json()["records"]) == len(p["records"])


def test_the_province_holds_the_prior_certificates(standins, standin_call, generated):
    held = [json.loads(line) for line in (generated / "province" / "certificates.jsonl").read_text(
        encoding="utf-8").splitlines() if line.strip()]
    assert held, "the generated year should hold a 补办/换发 prior certificate"
    for rec in held:
        assert standin_call(standins.province, "GET", f"/api/v1/certificates/{rec['certificate_no']}").json() == rec
    assert set(standins.province.applied_counts().values()) <= {0}
