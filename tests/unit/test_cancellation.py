"""取消申请 (domain.cancellation): until the point of no return, and never after it."""
from zhicheng.domain.cancellation import verdict, withdrawal_at, withdrawal_reason


def test_cancellable_until_the_certificate_or_the_decision():
    for status in ("received", "invalid", "validated", "returned", "in_review", "approved", "withdrawn"):
        assert verdict(status) == (True, None), status
    assert verdict("issued") == (False, "cancellation.too_late_issued")
    assert verdict("registered") == (False, "cancellation.too_late_issued")
    assert verdict("rejected") == (False, "cancellation.already_decided")
    assert verdict(None) == (False, "cancellation.unknown_submission")


CHAIN = ("评审申报", "市单位审核、公示", "市行政主管部门审核", "评委会审核")


def test_a_withdrawal_stands_at_the_open_stage_or_with_the_applicant():
    at = dict(chain=CHAIN, submission_stage="评审申报")
    # in review or approved: the stage it waits at, still undecided in this revision
    assert withdrawal_at(status="in_review", stage_index=2, decided={1}, **at) == (2, "市行政主管部门审核")
    assert withdrawal_at(status="approved", stage_index=3, decided={1, 2}, **at) == (3, "评委会审核")
    # back with the applicant after a return (its stage is decided), or a resubmission not
    # yet validated: the submission stage
    assert withdrawal_at(status="returned", stage_index=2, decided={1, 2}, **at) == (0, "评审申报")
    assert withdrawal_at(status="received", stage_index=2, decided=set(), **at) == (0, "评审申报")
    # never on a chain: the track's submission stage
    assert withdrawal_at(status="validated", chain=None, stage_index=None, decided=set(),
                         submission_stage="补办申请") == (0, "补办申请")
    # recorded already in this revision: nothing more
    assert withdrawal_at(status="returned", stage_index=2, decided={0, 1, 2}, **at) is None


def test_the_withdrawal_reason_names_the_cancellation_and_keeps_the_applicants_words():
    assert withdrawal_reason(cancellation_id="CAN1", requested_at="2026-12-03T10:00:00+08:00",
                             reason="  另有安排 ") == \
        "申请人取消申请（网上大厅取消编号 CAN1，2026-12-03T10:00:00+08:00 提出）：另有安排"
    assert withdrawal_reason(cancellation_id="CAN2", requested_at=None, reason=None) == \
        "申请人取消申请（网上大厅取消编号 CAN2）"
