"""The one-line result of each year-end step, as the artifact and the CLI show it."""
import pytest

from zhicheng.year_end.service import STEPS, headline


def test_each_step_says_what_it_did_in_counts():
    assert headline("close_publicity", {"closed_windows": [3, 4], "passed": 40, "held": 1, "removed": 2}) == \
        "关闭公示 2 个，进入下一环节 40 件，因异议暂缓 1 件，撤下 2 件"
    assert headline("issue", {"issued": 118, "registered": 2, "revoked": 1, "problems": [{"id": 7}]}) == \
        "发证 118 张，登记 2 条，作废旧证 1 张，未能发证 1 件"
    push = {"province": {"sent": 120, "paused": True}, "hall": {"sent": 9},
            "problems": {"rejected": 1, "dead": 0}}
    assert headline("push", push) == \
        "省平台推送 120 条（省平台无应答，下次继续），大厅通知 9 条，待人工处理：拒收 1、死信 0"
    assert headline("reconcile", {"scopes": ["320100/2026"], "rows_total": 0, "requeued": 0}) == \
        "核对 1 个范围，差异 0 条，重新排队 0 条"
    assert headline("quality", {"checks": 28, "failed": [], "data_docs": "/h/quality/index.html"}) == \
        "28 项检查全部通过；Data Docs：/h/quality/index.html"
    failed = [{"suite": "certificates", "check": "unique_number", "unexpected_count": 2}]
    assert headline("quality", {"checks": 28, "failed": failed, "data_docs": "d"}) == \
        "28 项检查，1 项不符合：certificates.unique_number（2 行）；Data Docs：d"


def test_every_step_has_a_headline_even_from_an_empty_summary():
    assert all(headline(step, {}) for step in STEPS)
    with pytest.raises(ValueError, match="unknown year-end step"):
        headline("party", {})
