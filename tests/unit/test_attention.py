"""What in a run's summary needs a person (flows/attention.py): one rule a stage."""
from zhicheng.flows import attention
from zhicheng.flows.year_end import needs, run_year


def test_each_stage_names_what_needs_a_person():
    assert attention.reasons("quality", {"success": True, "failed": []}) == []
    (q,) = attention.reasons("quality", {"success": False, "failed": [{"suite": "outbox"}, {"suite": "ballots"}]})
    assert "2 项期望不符合" in q and "ballots、outbox" in q
    assert attention.reasons("push", {"problems": {"dead": 0, "rejected": 0}}) == []
    dead, rejected = attention.reasons("push", {"problems": {"dead": 2, "rejected": 1}})
    assert "死信 2 条" in dead and "--retry-dead" in dead and "拒收 1 条" in rejected
    assert attention.reasons("votes", {"anomalies": []}) == []
    assert "计票异常 1 项（missing_ballot）" in \
        attention.reasons("votes", {"anomalies": [{"code": "missing_ballot"}]})[0]
    assert attention.reasons("publicity", {"held": 0, "problems": 0}) == []
    assert attention.reasons("publicity", {"held": 3, "problems": 0}) == ["3 件办件因公示异议暂缓，待处理异议"]
    assert attention.reasons("issue", {"issued": 5}) == []   # no rule: never needs one


def test_without_prefect_the_summary_is_the_result():
    summary = {"success": False, "failed": [{"suite": "outbox"}]}
    assert attention.conclude("quality", "run-1", summary) is summary


def test_a_year_end_needs_a_person_for_what_its_steps_did_now_not_before():
    rows = [{"step": "quality", "state": "done", "summary": {"success": False, "failed": [{"suite": "outbox"}]}},
            {"step": "push", "state": "already done", "summary": {"problems": {"dead": 4}}},
            {"step": "issue", "state": "done", "summary": {}}]
    (reason,) = needs(rows)
    assert reason.startswith("质量检查：数据质量检查 1 项期望不符合")


def test_the_year_of_a_run_without_one_is_that_of_its_time():
    assert run_year(2025, "2026-12-28T20:00:00+08:00") == 2025
    assert run_year(None, "2026-12-31T23:30:00+08:00") == 2026
    assert run_year(None, "2026-12-31T16:30:00+00:00") == 2027   # already 2027 in Shanghai
