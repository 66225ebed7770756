"""The review chains in config are those of seed 001 section 3.3.3.2, stage by stage."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from zhicheng.config import get_config
from zhicheng.domain.routes import UnknownRoute, chains_from_records

SEED = Path(__file__).parents[1] / "fixtures" / "seed001_review_chains.txt"

# (section heading prefix in the seed) -> (tier, reporting): how cli.md maps them
SECTIONS = {"1.": ("省", "省直"), "2.1": ("省", "县区级"), "2.2": ("省", "市级"),
            "3.1": ("市", "县区级"), "3.2": ("市", "市级"), "4.": ("县区", "县区级")}


def seed_chains() -> dict[tuple[str, str, bool], list[str]]:
    """Parse the verbatim excerpt of the seed into chains."""
    chains, section = {}, None
    for line in SEED.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        head = re.match(r"^(\d\.\d|\d\.)\s", line)
        if head and head.group(1) in SECTIONS:
            section = SECTIONS[head.group(1)]
        m = re.match(r"^发证权限(未下放|下放)：(.*)$", line)
        if m:
            stages = [s.strip() for s in m.group(2).split("--->")]
            chains[(*section, m.group(1) == "下放")] = stages
    return chains


def test_seed_excerpt_has_all_twelve_chains():
    assert len(seed_chains()) == 12


@pytest.mark.parametrize("key", sorted(seed_chains()), ids=lambda k: f"{k[0]}-{k[1]}-{k[2]}")
def test_config_chain_equals_seed(key):
    tier, reporting, delegated = key
    assert list(get_config().chains.route(tier, reporting, delegated)) == seed_chains()[key]


def test_delegation_skips_office_review_and_ends_with_filing_then_committee_issue():
    chains = get_config().chains
    for (tier, reporting, _), _stages in seed_chains().items():
        without = chains.route(tier, reporting, False)
        with_ = chains.route(tier, reporting, True)
        assert with_[-2:][1] == "评委会发证" and "备案" in with_[-2]
        assert without[-1].endswith("发证") and "备案" not in "".join(without)
        assert [s for s in without if chains.kind(s) == "review"][:-1] == \
               [s for s in with_ if chains.kind(s) == "review"]


def test_unknown_combination_names_the_known_pairs():
    with pytest.raises(UnknownRoute, match="known tier/reporting pairs: .*县区/县区级"):
        get_config().chains.route("县区", "省直", False)


def test_other_tracks_have_their_own_shorter_chains():
    chains = get_config().chains
    assert chains.for_application(track="初定", tier=None, reporting=None, delegated=False)[0] == "初定申报"
    assert chains.kind(chains.for_application(track="历史登记", tier=None, reporting=None,
                                              delegated=False)[-1]) == "register"


@pytest.mark.parametrize("records,kinds,fault", [
    ([{"tier": "省", "reporting": "省直", "delegated": False, "stages": ["评审申报", "发证"]}] * 2,
     {"评审申报": "submission", "发证": "issue"}, "duplicate chain"),
    ([{"tier": "省", "reporting": "省直", "delegated": False, "stages": ["评审申报", "神秘"]}],
     {"评审申报": "submission"}, "without a kind"),
    ([{"tier": "省", "reporting": "省直", "delegated": False, "stages": ["评审申报", "审核"]}],
     {"评审申报": "submission", "审核": "review"}, "does not end with issue"),
])
def test_broken_chain_data_is_refused(records, kinds, fault):
    with pytest.raises(ValueError, match=fault):
        chains_from_records(records, {}, kinds)
