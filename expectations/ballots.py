"""Suite `ballots`: votes from the known set, one counted ballot per expert and application.

A duplicate is kept on purpose until a human voids one (the tally reports it as an
anomaly): until then it is a fault here too. Reports name the expert by member code,
never with the vote (ballots are secret).
"""
from __future__ import annotations

from zhicheng.expectations.scope import of_year
from zhicheng.expectations.spec import Check, Params, Suite
from zhicheng.expectations.sql import in_list

VOTES = ("同意", "不同意", "弃权", "空白")
_FROM = ("FROM {batch} b JOIN applications a ON a.id = b.application_id "
         "JOIN voting_sessions v ON v.id = b.session_id "
         "JOIN committee_members cm ON cm.id = b.member_id")


def suite(p: Params) -> Suite:
    return Suite("ballots", "ballots", (_domain(p), _one_each(p)))


def _domain(p: Params) -> Check:
    return Check(
        "vote_in_domain", "选票是 同意、不同意、弃权、空白 之一",
        f"SELECT b.id AS ballot_id, v.code AS session, b.application_id, cm.member_code {_FROM} "
        f"WHERE {of_year('a', p)} AND (b.vote IS NULL OR b.vote NOT IN {in_list(VOTES)})")


def _one_each(p: Params) -> Check:
    return Check(
        "one_ballot_per_expert_and_application", "每位专家对每个申报在一次评审会上只有一张有效选票",
        f"SELECT v.code AS session, b.application_id, cm.member_code, COUNT(*) AS ballots {_FROM} "
        f"WHERE {of_year('a', p)} AND b.voided_at IS NULL "
        "GROUP BY v.code, b.application_id, cm.member_code HAVING COUNT(*) > 1")
