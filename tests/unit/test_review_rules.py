"""The review state machine (domain/review.py) over every chain of config: approvals,
returns with re-entry, rejections, and the moves it refuses."""
from __future__ import annotations

import datetime as dt
import random

import pytest

from zhicheng.config import get_config
from zhicheng.domain import review as rules
from zhicheng.domain.review import IllegalMove, Position
from zhicheng.workspace import calendar_from_package

CHAINS = get_config().chains
KINDS = CHAINS.kinds
ALL_CHAINS = {f"{k.tier}-{k.reporting}-{'下放' if k.delegated else '未下放'}": c for k, c in CHAINS.review.items()}
ALL_CHAINS.update({track: c for track, c in CHAINS.tracks.items()})
SH = dt.timezone(dt.timedelta(hours=8))


def fresh(chain) -> Position:
    entry = rules.enter(status="validated", chain=chain, current_index=None, revision=1,
                        last_return=None, kinds=KINDS)
    assert (entry.stage_index, entry.resubmission) == (1, False)
    return Position("in_review", chain, entry.stage_index, 1)


def approve(pos: Position) -> Position:
    return rules.after(pos, rules.decide(pos, stage=pos.stage, action="approve", kinds=KINDS, reason=None))


@pytest.mark.parametrize("name", sorted(ALL_CHAINS))
def test_approvals_walk_every_stage_in_order_and_approve_at_filing_or_issue(name):
    chain = ALL_CHAINS[name]
    pos, seen = fresh(chain), []
    while True:
        seen.append(pos.stage)
        expected = "approved" if KINDS[pos.stage] in rules.READY_KINDS else "in_review"
        assert pos.status == expected, pos.stage
        if pos.stage_index == len(chain) - 1:
            break
        pos = approve(pos)
    assert seen == list(chain[1:])
    last = approve(pos)                       # the final stage is decided, and stays last
    assert (last.stage, last.status) == (chain[-1], "approved")
    with pytest.raises(IllegalMove, match="重复处理"):
        approve(last)


@pytest.mark.parametrize("name", sorted(ALL_CHAINS))
def test_return_then_resubmission_reenters_at_the_returning_stage(name):
    chain = ALL_CHAINS[name]
    review_stages = [i for i, s in enumerate(chain) if KINDS[s] == "review"]
    pos = fresh(chain)
    while pos.stage_index != review_stages[-1]:
        pos = approve(pos)
    move = rules.decide(pos, stage=pos.stage, action="return", kinds=KINDS, reason="材料不全")
    assert (move.status, move.returns_to_applicant, move.next_index) == ("returned", True, None)
    returned = rules.after(pos, move)
    with pytest.raises(IllegalMove, match="退回"):
        approve(returned)
    with pytest.raises(IllegalMove, match="尚未收到重新提交"):
        rules.enter(status="returned", chain=chain, current_index=returned.stage_index, revision=1,
                    last_return=(1, move.stage_index), kinds=KINDS)
    entry = rules.enter(status="returned", chain=chain, current_index=returned.stage_index, revision=2,
                        last_return=(1, move.stage_index), kinds=KINDS)
    assert (entry.stage, entry.resubmission) == (chain[review_stages[-1]], True)
    again = Position("in_review", chain, entry.stage_index, 2)
    assert approve(again).stage_index == entry.stage_index + 1  # a new revision decides afresh


@pytest.mark.parametrize("name", sorted(ALL_CHAINS))
def test_rejection_ends_it(name):
    chain = ALL_CHAINS[name]
    pos = fresh(chain)
    move = rules.decide(pos, stage=pos.stage, action="reject", kinds=KINDS, reason="不符合申报条件")
    assert (move.status, move.ends) == ("rejected", True)
    ended = rules.after(pos, move)
    for action in rules.ACTIONS:
        with pytest.raises(IllegalMove, match="已不通过"):
            rules.decide(ended, stage=ended.stage, action=action, kinds=KINDS, reason="x")
    with pytest.raises(IllegalMove):
        rules.enter(status="rejected", chain=chain, current_index=1, revision=2, last_return=None, kinds=KINDS)


def test_illegal_moves_name_the_reason():
    chain = CHAINS.route("市", "市级", False)
    pos = fresh(chain)
    with pytest.raises(IllegalMove, match="当前在“市单位审核、公示”环节") as err:
        rules.decide(pos, stage="评委会审核", action="approve", kinds=KINDS, reason=None)  # a skip
    assert "not at" in str(err.value)
    with pytest.raises(IllegalMove, match="不在该申报的审核流程中"):
        rules.decide(pos, stage="县区职称办审核", action="approve", kinds=KINDS, reason=None)
    moved = approve(pos)
    with pytest.raises(IllegalMove, match="已处理过"):                  # back to a decided stage
        rules.decide(moved, stage=chain[1], action="approve", kinds=KINDS, reason=None)
    with pytest.raises(IllegalMove, match="须填写理由"):
        rules.decide(moved, stage=moved.stage, action="return", kinds=KINDS, reason="  ")
    with pytest.raises(IllegalMove, match="未知的处理结果"):
        rules.decide(moved, stage=moved.stage, action="maybe", kinds=KINDS, reason=None)
    withdrawn = Position("withdrawn", chain, 2, 1)
    with pytest.raises(IllegalMove, match="已撤回"):
        rules.decide(withdrawn, stage=chain[2], action="approve", kinds=KINDS, reason=None)


def test_machine_stages_allow_only_their_actions():
    chain = CHAINS.route("市", "市级", False)
    at = {s: Position("in_review", chain, i, 1) for i, s in enumerate(chain)}
    with pytest.raises(IllegalMove, match="不能作出“退回修改”"):
        rules.decide(at["专家评审"], stage="专家评审", action="return", kinds=KINDS, reason="x")
    with pytest.raises(IllegalMove, match="不能作出"):
        rules.decide(at["评前公示"], stage="评前公示", action="reject", kinds=KINDS, reason="x")
    assert rules.decide(at["评前公示"], stage="评前公示", action="remove", kinds=KINDS, reason="异议成立").ends
    with pytest.raises(IllegalMove, match="不能作出"):
        rules.decide(at["评委会审核"], stage="评委会审核", action="remove", kinds=KINDS, reason="x")


def test_no_sequence_of_decisions_leaves_the_chain_or_skips_a_stage():
    """Random decisions at random stages: every accepted one is at the current stage and
    moves at most one step forward along the chain."""
    rnd = random.Random(6)
    for chain in ALL_CHAINS.values():
        pos = fresh(chain)
        for _ in range(200):
            stage = rnd.choice(list(chain) + ["不存在的环节"])
            action = rnd.choice(rules.ACTIONS)
            before = pos
            try:
                move = rules.decide(pos, stage=stage, action=action, kinds=KINDS, reason=rnd.choice([None, "理由"]))
            except IllegalMove:
                continue
            assert stage == before.stage and before.stage_index not in before.decided
            pos = rules.after(pos, move)
            assert pos.chain == chain
            assert pos.stage_index in (before.stage_index, before.stage_index + 1)
            if pos.status in ("rejected", "returned"):
                pos = fresh(chain)


def test_already_in_chain_is_left_alone():
    chain = CHAINS.tracks["初定"]
    entry = rules.enter(status="in_review", chain=chain, current_index=2, revision=1, last_return=None, kinds=KINDS)
    assert entry.already_in and entry.stage_index == 2


def test_due_counts_working_days_after_entry():
    cal = calendar_from_package()
    # entered Tue 2026-09-29; 3 working days after: 09-30, 10-08, 10-09 (National Day)
    due = rules.due_at(dt.datetime(2026, 9, 29, 15, 0, tzinfo=SH), 3, cal)
    assert due == dt.datetime(2026, 10, 10, 0, 0, tzinfo=SH)
    assert rules.due_at(dt.datetime(2026, 9, 29, tzinfo=SH), None, cal) is None

