"""Property (hypothesis): whatever sequence of decisions and resubmissions is thrown at
the state machine, on any chain of config (the twelve of seed 001 and the 初定, 补办,
换发, 历史登记 tracks), an accepted decision is always at the stage the application is
at, and the decided stages, read in order, walk the chain one stage at a time: approve
goes on by exactly one, a return comes back to the same stage only in a new revision,
nothing follows a rejection, and no stage is ever passed without an approval."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from zhicheng.config import get_config
from zhicheng.domain import review as rules
from zhicheng.domain.review import IllegalMove, Position

CHAINS = get_config().chains
KINDS = CHAINS.kinds
ALL_CHAINS = [tuple(c) for c in CHAINS.review.values()] + [tuple(c) for c in CHAINS.tracks.values()]

# One step: decide (a stage picked by index, maybe off the chain; an action; a reason or
# not) or the applicant resubmitting (a higher revision, validated, entering again).
decide_step = st.tuples(st.just("decide"), st.integers(-1, 20), st.sampled_from(rules.ACTIONS),
                        st.sampled_from([None, "", "理由"]))
steps = st.lists(st.one_of(decide_step, decide_step, decide_step, st.just(("resubmit",))), max_size=60)


class Walk:
    """The application as the state machine sees it, and the log of accepted decisions."""

    def __init__(self, chain: tuple[str, ...]) -> None:
        entry = rules.enter(status="validated", chain=chain, current_index=None, revision=1,
                            last_return=None, kinds=KINDS)
        self.chain = chain
        self.pos = Position(rules.status_at(chain, entry.stage_index, KINDS), chain, entry.stage_index, 1)
        self.log: list[tuple[int, int, str]] = []   # (revision, stage index, action)
        self.last_return: tuple[int, int] | None = None

    def decide(self, pick: int, action: str, reason: str | None) -> None:
        stage = self.chain[pick] if 0 <= pick < len(self.chain) else f"不存在的环节{pick}"
        before = self.pos
        try:
            move = rules.decide(before, stage=stage, action=action, kinds=KINDS, reason=reason)
        except IllegalMove as exc:
            assert exc.zh and exc.en   # a reason in both languages
            return
        assert stage == before.stage and before.stage_index not in before.decided
        assert before.status in rules.LIVE
        self.pos = rules.after(before, move)
        self.log.append((before.revision, before.stage_index, action))
        if action == "return":
            self.last_return = (before.revision, before.stage_index)

    def resubmit(self) -> None:
        revision = self.pos.revision + 1
        try:
            entry = rules.enter(status=self.pos.status, chain=self.chain, current_index=self.pos.stage_index,
                                revision=revision, last_return=self.last_return, kinds=KINDS)
        except IllegalMove:
            assert self.pos.status in rules.ENDED
            return
        if entry.already_in:      # intake holds a new revision of an application in review
            assert self.pos.status in rules.LIVE
            return
        assert self.pos.status == "returned" and entry.resubmission
        assert entry.stage_index == self.last_return[1]   # at the stage that returned it
        self.pos = Position(rules.status_at(self.chain, entry.stage_index, KINDS), self.chain,
                            entry.stage_index, revision)


def check_walk(w: Walk) -> None:
    assert w.pos.chain == w.chain and w.pos.stage == w.chain[w.pos.stage_index]
    expected_index, revision, ended, previous = 1, 1, False, None
    for rev, index, action in w.log:
        assert not ended, "a decision after a rejection"
        assert index == expected_index, f"decided stage {index}, but the application was at {expected_index}"
        assert rev >= revision
        if rev > revision:        # a new round only after a return
            assert previous == "return"
        revision = rev
        if action == "approve":
            expected_index = min(index + 1, len(w.chain) - 1)
        ended = action in ("reject", "remove")
        previous = action
    if w.log and w.log[-1][2] == "return" and w.log[-1][0] == w.pos.revision:
        assert w.pos.status == "returned"      # waiting for the resubmission
    if ended:
        assert w.pos.status == "rejected"
    assert w.pos.stage_index == expected_index
    # every stage before where it stands was approved: none was passed over
    approved = {i for _, i, a in w.log if a == "approve"}
    assert set(range(1, w.pos.stage_index)) <= approved


@settings(max_examples=300, deadline=None)
@given(chain=st.sampled_from(ALL_CHAINS), plan=steps)
def test_no_sequence_of_decisions_leaves_the_chain_or_skips_a_stage(chain, plan):
    w = Walk(chain)
    for step in plan:
        if step[0] == "resubmit":
            w.resubmit()
        else:
            # mostly the stage it is at (the interesting case), otherwise anywhere
            pick = w.pos.stage_index if step[1] == -1 else step[1]
            w.decide(pick, step[2], step[3])
        check_walk(w)


@settings(max_examples=200, deadline=None)
@given(chain=st.sampled_from(ALL_CHAINS), returning=st.integers(0, 20), data=st.data())
def test_every_review_stage_can_return_and_the_resubmission_comes_back_there(chain, returning, data):
    reviews = [i for i, s in enumerate(chain) if KINDS[s] == "review"]
    target = reviews[returning % len(reviews)]
    w = Walk(chain)
    while w.pos.stage_index < target:
        w.decide(w.pos.stage_index, "approve", None)
    w.decide(target, "return", "请补充材料")
    assert w.pos.status == "returned"
    w.decide(target, data.draw(st.sampled_from(rules.ACTIONS)), "理由")   # refused until resubmitted
    assert w.log[-1] == (1, target, "return")
    w.resubmit()
    assert (w.pos.stage_index, w.pos.revision, w.pos.status) == (target, 2, "in_review")
    while w.pos.status == "in_review":
        w.decide(w.pos.stage_index, "approve", None)
    check_walk(w)
    assert KINDS[w.pos.stage] in rules.READY_KINDS
