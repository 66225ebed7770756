"""ApplicationStatus is the stored string: rows written before it, exports and the CLI
read the same values, and each status has its Chinese term in the glossary."""
import json
import re
from pathlib import Path

from zhicheng.domain.application_status import ApplicationStatus
from zhicheng.domain.review import ENDED, ENTERABLE, LIVE, Position, decide

GLOSSARY = Path(__file__).resolve().parents[2] / "docs" / "glossary.md"
# the values rows hold (applications.status, String(16)): renaming one needs a migration
STORED = ("received", "invalid", "validated", "returned", "in_review",
          "approved", "rejected", "withdrawn", "issued", "registered")


def test_the_members_are_the_stored_values():
    assert [s.value for s in ApplicationStatus] == list(STORED)
    assert all(len(s) <= 16 for s in ApplicationStatus)


def test_a_member_reads_and_prints_as_its_stored_string():
    s = ApplicationStatus.IN_REVIEW
    assert s == "in_review" and "in_review" == s and hash(s) == hash("in_review")
    assert ApplicationStatus("in_review") is s
    assert (str(s), f"{s}", "%s" % s) == ("in_review",) * 3
    assert json.dumps({"status": s}) == '{"status": "in_review"}'
    assert "in_review" in LIVE and "withdrawn" in ENDED and "received" in ENTERABLE


def test_a_rule_given_a_stored_string_answers_as_before():
    pos = Position(status="in_review", chain=("申报", "单位审核", "评委会审核"), stage_index=1, revision=1)
    kinds = {"申报": "submission", "单位审核": "review", "评委会审核": "review"}
    move = decide(pos, stage="单位审核", action="return", kinds=kinds, reason="材料不全")
    assert move.status == "returned" and move.status is ApplicationStatus.RETURNED


def test_the_glossary_names_each_status_in_chinese():
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| ([^|]+?) \|", GLOSSARY.read_text(encoding="utf-8"), re.M))
    assert set(rows) == set(STORED), rows
    assert all(re.search(r"[\u4e00-\u9fff]", term) for term in rows.values()), rows
