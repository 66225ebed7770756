"""Notices to applicants (domain.notices): which approval is passing review, on every
chain of config, and what a notice carries (strings only, no ID or phone number)."""
from __future__ import annotations

import datetime as dt

import pytest

from zhicheng.config import get_config
from zhicheng.domain import notices

CHAINS = get_config().chains
KINDS = CHAINS.kinds
ALL_CHAINS = {f"{k.tier}-{k.reporting}-{'下放' if k.delegated else '未下放'}": c for k, c in CHAINS.review.items()}
ALL_CHAINS.update({track: c for track, c in CHAINS.tracks.items()})


def passing(chain) -> list[str]:
    return [chain[i] for i in range(len(chain)) if notices.passes_review(chain, i, KINDS)]


@pytest.mark.parametrize("name", sorted(ALL_CHAINS))
def test_each_chain_passes_review_once_at_its_last_office_review(name):
    chain = ALL_CHAINS[name]
    offices = [s for s in chain if KINDS[s] == "review"]
    if name == "历史登记":     # its registration tells the applicant (passed_review) itself
        assert passing(chain) == []
    else:
        assert passing(chain) == [offices[-1]]
        assert all(KINDS[s] != "review" for s in chain[chain.index(offices[-1]) + 1:])


def test_the_seeds_own_cases():
    # 003:42 经市职称办审核通过后 …; a 评审 passes before its 评前公示; 补办 before issuing
    assert passing(CHAINS.tracks["初定"]) == ["职称办审核"]
    assert passing(CHAINS.route("市", "市级", False)) == ["省/市职称管理部门审核"]
    assert passing(CHAINS.route("省", "省直", True)) == ["评委会审核"]
    assert passing(CHAINS.tracks["补办"]) == ["职称管理部门审核"]


def test_odd_positions_and_unknown_stages_pass_nothing():
    chain = CHAINS.tracks["初定"]
    assert not notices.passes_review(chain, -1, KINDS) and not notices.passes_review(chain, len(chain), KINDS)
    assert not notices.passes_review(("评审申报", "某新环节"), 1, KINDS)   # a stage of no known kind
    assert notices.passes_review(("初定申报", "职称办审核"), 1, KINDS)        # nothing after it


def test_keys_name_the_event():
    assert notices.passed_review_key("JS2026000001", 2) == "passed_review:JS2026000001:r2"
    assert notices.publicity_key(7, "JS2026000001") == "publicity:w7:JS2026000001"
    assert notices.publicity_key(7, "A") != notices.publicity_key(8, "A")


def test_a_notice_carries_strings_and_no_personal_numbers():
    d = dt.date
    review = notices.passed_review_params(name="王芳", submission_id="JS2026000001", track="初定",
                                          stage="职称办审核", office="泰州市职称办", decided_on=d(2026, 6, 12))
    listed = notices.publicity_params(name="王芳", submission_id="JS2026000001", track=None, kind="初定",
                                      stage="初定公示", window_id=3, office="职称管理部门",
                                      published_on=d(2026, 9, 29), opens_on=d(2026, 9, 29),
                                      closes_on=d(2026, 10, 10))
    assert review["decided_on"] == "2026-06-12" and listed["window"] == "3" and listed["track"] == ""
    assert (listed["opens_on"], listed["closes_on"]) == ("2026-09-29", "2026-10-10")
    for params in (review, listed):
        assert all(isinstance(v, str) for v in params.values())
        assert not {"id_number", "phone"} & set(params)
    body = notices.notification(id_number="320102198001010014", template=notices.PUBLICITY, params=listed,
                                key="publicity:w3:JS2026000001")
    assert set(body) == {"id_number", "template", "params", "idempotency_key"}
    assert body["template"] == "publicity" and body["idempotency_key"] == "publicity:w3:JS2026000001"
