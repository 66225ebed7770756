"""Suite `decisions`: every application's decisions follow its chain.

Decisions are append-only and each was checked against the application's stage when
recorded, so their id order is the order of the moves: an approval moves to the next
stage, a return brings the resubmission back to the same stage, and nothing follows a
rejection, withdrawal or removal. The first decision may stand anywhere on the chain
(applications taken over mid-chain start there). A withdrawal (取消申请) stands where the
application stood, or at its submission stage (index 0) while it was with the applicant:
before it entered its chain, or after a return.
"""
from __future__ import annotations

from zhicheng.expectations.scope import of_year
from zhicheng.expectations.spec import Check, Params, Suite
from zhicheng.expectations.sql import Dialect, in_list

ACTIONS = ("approve", "return", "reject", "withdraw", "remove")
_ROW = "d.application_id, a.submission_id, d.id AS decision_id, d.stage_index, d.stage, d.action"


def suite(p: Params) -> Suite:
    return Suite("decisions", "decisions", (_action(p), _on_chain(p), _in_order(p)))


def _action(p: Params) -> Check:
    return Check(
        "action_known", "决定是 approve、return、reject、withdraw、remove 之一",
        f"SELECT {_ROW} FROM {{batch}} d JOIN applications a ON a.id = d.application_id "
        f"WHERE {of_year('a', p)} AND d.action NOT IN {in_list(ACTIONS)}")


def _on_chain(p: Params) -> Check:
    at = Dialect(p.dialect).json_at("a.chain", "d.stage_index")
    return Check(
        "stage_on_chain",
        "决定所在环节是办件审核流程中该序号的环节，且不在办件当前环节之后（未进入流程即撤回的，记在申报环节）",
        f"SELECT {_ROW}, a.stage_index AS current_stage_index FROM {{batch}} d "
        f"JOIN applications a ON a.id = d.application_id WHERE {of_year('a', p)} "
        f"AND (a.chain IS NULL OR d.stage_index < 0 OR d.stage <> COALESCE({at}, '') "
        f"OR d.stage_index > COALESCE(a.stage_index, -1)) "
        f"AND NOT (a.chain IS NULL AND d.action = 'withdraw' AND d.stage_index = 0)")


def _in_order(p: Params) -> Check:
    return Check(
        "stages_in_chain_order",
        "决定按流程顺序：通过进入下一环节，退回在同一环节重新审核或由申请人撤回，驳回、撤回、移除之后没有决定",
        "SELECT s.application_id, s.submission_id, s.decision_id, s.stage_index, s.stage, s.action, "
        "s.previous_stage_index, s.previous_action FROM (SELECT d.application_id, a.submission_id, "
        "d.id AS decision_id, d.stage_index, d.stage, d.action, "
        "LAG(d.stage_index) OVER (PARTITION BY d.application_id ORDER BY d.id) AS previous_stage_index, "
        "LAG(d.action) OVER (PARTITION BY d.application_id ORDER BY d.id) AS previous_action "
        f"FROM {{batch}} d JOIN applications a ON a.id = d.application_id WHERE {of_year('a', p)}) s "
        "WHERE s.previous_action IS NOT NULL AND NOT ("
        "(s.previous_action = 'approve' AND s.stage_index = s.previous_stage_index + 1) OR "
        "(s.previous_action = 'return' AND s.stage_index = s.previous_stage_index) OR "
        "(s.previous_action = 'return' AND s.action = 'withdraw' AND s.stage_index = 0))")
