"""A 退回 in a staff file reaches the applicant through the hall's returns endpoint
(external-systems.md §1, the hall stand-in) with the office's reason, once: the answer
lost on the way, a second delivery run and a second import of the same file send no
second return and no second SMS."""
from __future__ import annotations

import datetime as dt

import pytest

from review_data import validated
from stage_data import write_csv
from tests.integration.delivery_data import hall_client, statuses
from zhicheng.db.engine import unit_of_work
from zhicheng.delivery.hall import push_hall
from zhicheng.review import service as review
from zhicheng.review.imports import import_decisions

HEADER = ["申报编号", "环节", "处理结果", "意见", "经办人", "处理单位", "处理时间"]
REASON = "年度考核表缺2024年度，请补充后重新提交"


@pytest.fixture
def waits():
    return []


def _import(app, path) -> dict:
    with unit_of_work(app.sessions) as s:
        return import_decisions(session=s, path=path, config=app.config, now=app.clock.now())


def _push(app, client) -> dict:
    return push_hall(sessions=app.sessions, client=client, now=app.clock.now(), chunk_size=10, max_attempts=3)


def test_a_return_from_a_staff_file_reaches_the_hall_once(app, hall, standin_credentials, waits, tmp_path):
    with unit_of_work(app.sessions) as s:
        a = validated(s, app.config, n=1)
        review.enter_chain(session=s, application_id=a.id, now=app.clock.now(), config=app.config)
        sid = a.submission_id
    hall.add_submission({"submission_id": sid, "revision": 1, "track": "评审", "batch_year": 2026,
                         "applicant": {"name": "申报人001", "id_number": "x", "phone": "13800000001"},
                         "materials": []})
    app.clock.set(dt.datetime(2026, 6, 5, 18, 0))
    path = write_csv(tmp_path / "decisions.csv", HEADER, [
        [sid, "市单位审核、公示", "通过", "", "王芳", "泰州某公司人事处", "2026-06-02 09:30"],
        [sid, "市行政主管部门审核", "退回", REASON, "赵强", "泰州市工信局", "2026-06-03 10:00"]])
    assert _import(app, path)["by_result"]["return"] == 1

    hall.faults.set("returns", drop_after_rate=1.0)       # the hall applies it, the answer is lost
    with hall_client(hall, standin_credentials, waits) as client:
        first = _push(app, client)
        hall.faults.clear()
        app.clock.advance(hours=1)
        second = _push(app, client)
        assert _import(app, path)["already_applied"] == 2   # the same file again: nothing new to send
        third = _push(app, client)
    assert (first["sent"], second["sent"], second["replayed"], third["sent"]) == (0, 1, 1, 0)
    (ret,) = hall.returns()
    assert (ret["submission_id"], ret["revision"], ret["stage"]) == (sid, 1, "市行政主管部门审核")
    assert ret["reasons"] == [{"code": "review.returned", "message": REASON}]
    assert ret["idempotency_key"] == f"return:{sid}:r1:市行政主管部门审核"
    (sms,) = hall.sms()
    assert REASON in sms["text"] and sms["phone"] == "13800000001"
    assert statuses(app, "hall_return") == {"sent": 1}
