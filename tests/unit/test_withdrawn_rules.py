"""取消申请 on a publicity window or a vote's agenda (issue 22): the entry leaves as
`withdrawn`, settled; closing and the tally decide nothing for it; a session completes
once every agenda item has an outcome."""
from __future__ import annotations

import pytest

from zhicheng.domain import publicity, tally


@pytest.mark.parametrize("before", [publicity.PENDING, publicity.HELD])
def test_an_active_entry_leaves_its_window_withdrawn(before):
    assert publicity.on_withdrawal(before) == publicity.WITHDRAWN


@pytest.mark.parametrize("settled", [publicity.PASSED, publicity.REMOVED, publicity.WITHDRAWN])
def test_a_settled_entry_keeps_what_the_window_decided(settled):
    assert publicity.on_withdrawal(settled) == settled


def test_an_unknown_entry_outcome_is_an_error():
    with pytest.raises(ValueError, match="'gone'"):
        publicity.on_withdrawal("gone")


@pytest.mark.parametrize("objections", [[], ["open"], ["upheld"], ["dismissed", "open"]])
def test_closing_settles_a_withdrawn_application_whatever_its_objections(objections):
    assert publicity.entry_outcome("withdrawn", objections) == publicity.WITHDRAWN


@pytest.mark.parametrize(("objections", "outcome"), [
    ([], publicity.PASSED), (["open"], publicity.HELD), (["upheld", "open"], publicity.REMOVED)])
def test_closing_an_application_still_in_review_follows_its_objections(objections, outcome):
    assert publicity.entry_outcome("in_review", objections) == outcome


def test_every_entry_outcome_has_words_for_staff():
    assert set(publicity.ENTRY_WORDS) == set(publicity.ENTRY_OUTCOMES)
    assert publicity.ENTRY_WORDS[publicity.WITHDRAWN] == "已撤回（取消申请）"
    assert publicity.WITHDRAWN not in publicity.ACTIVE


def test_an_undecided_agenda_item_leaves_withdrawn_a_decided_one_stays():
    assert tally.on_withdrawal(None) == tally.WITHDRAWN
    assert tally.on_withdrawal(tally.PASS) == tally.PASS
    assert tally.on_withdrawal(tally.FAIL) == tally.FAIL
    with pytest.raises(ValueError, match="'maybe'"):
        tally.on_withdrawal("maybe")


@pytest.mark.parametrize(("tallied", "recorded", "status", "outcome"), [
    (tally.PASS, None, "in_review", tally.PASS),
    (None, None, "in_review", None),                       # withheld by an anomaly
    (tally.PASS, None, "withdrawn", tally.WITHDRAWN),      # its ballots decide nothing
    (None, None, "withdrawn", tally.WITHDRAWN),            # nor do its anomalies withhold it
    (tally.FAIL, tally.WITHDRAWN, "withdrawn", tally.WITHDRAWN),
    (tally.FAIL, tally.PASS, "withdrawn", tally.PASS),     # recorded before the withdrawal
])
def test_agenda_outcome(tallied, recorded, status, outcome):
    assert tally.agenda_outcome(tallied=tallied, recorded=recorded, application_status=status) == outcome


def test_a_session_completes_when_every_item_has_an_outcome():
    assert tally.session_complete([tally.PASS, tally.WITHDRAWN, tally.FAIL])
    assert tally.session_complete([tally.WITHDRAWN])
    assert not tally.session_complete([tally.PASS, None])


def test_anomalies_of_a_withdrawn_application_need_nobody():
    dup = tally.Anomaly("duplicate_ballot", "x", application="SUB-2", member="M05")
    other = tally.Anomaly("proxy_ballot", "y", application="SUB-1", member="M01")
    quorum = tally.Anomaly("no_quorum", "z")
    assert tally.open_anomalies([dup, other, quorum], ["SUB-2"]) == (other, quorum)
    assert tally.open_anomalies([dup], []) == (dup,)
