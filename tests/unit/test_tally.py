"""Expert vote tally (rules.md: Expert vote): quorum, 2/3 thresholds, recusal, anomalies."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from zhicheng.domain.tally import (FAIL, PASS, Candidate, CastBallot, Expert, Ratio, has_quorum,
                                   passes, recusals, tally)

TWO_THIRDS = Ratio.of([2, 3])


def experts(n_present: int, n_absent: int = 0, employer: dict[int, str] | None = None) -> list[Expert]:
    employer = employer or {}
    return ([Expert(f"E{i:02d}", True, employer_name=employer.get(i)) for i in range(n_present)]
            + [Expert(f"A{i:02d}", False) for i in range(n_absent)])


def ballots(app: str, votes: list[str], start_row: int = 2) -> list[CastBallot]:
    return [CastBallot(start_row + i, "b.csv", f"E{i:02d}", app, v) for i, v in enumerate(votes)]


def run(exps, agenda, bs, members_total=None, declared=()):
    rec = recusals(exps, agenda, declared)
    return tally(members_total=members_total or len(exps), experts=exps, agenda=agenda,
                 ballots=bs, recused=rec, quorum=TWO_THIRDS, pass_ratio=TWO_THIRDS)


def test_seventeen_present_twelve_yes_passes_eleven_fails():
    exps = experts(17)
    agenda = [Candidate("S1"), Candidate("S2")]
    bs = (ballots("S1", ["同意"] * 12 + ["不同意"] * 5)
          + ballots("S2", ["同意"] * 11 + ["弃权"] * 5 + ["空白"]))
    result = run(exps, agenda, bs)
    s1, s2 = result.applications
    assert (s1.present, s1.yes, s1.no, s1.threshold, s1.outcome) == (17, 12, 5, 12, PASS)
    assert (s2.present, s2.yes, s2.abstain, s2.threshold, s2.outcome) == (17, 11, 6, 12, FAIL)


def test_two_recused_threshold_follows_the_fifteen_who_count():
    exps = experts(17, employer={0: "甲公司", 1: "甲公司"})
    agenda = [Candidate("S1", employer_name="甲公司")]
    # the two recused experts cast no ballot; 10 of the 15 others say yes
    bs = [CastBallot(r, None, f"E{i:02d}", "S1", "同意" if i < 12 else "不同意")
          for r, i in enumerate(range(2, 17), start=2)]
    (t,) = run(exps, agenda, bs).applications
    assert (t.present, t.recused, t.yes, t.threshold, t.outcome) == (15, 2, 10, 10, PASS)
    bs9 = [b if b.member != "E11" else CastBallot(b.row, None, "E11", "S1", "不同意") for b in bs]
    assert run(exps, agenda, bs9).applications[0].outcome == FAIL


def test_declared_conflict_recuses():
    exps = experts(3)
    rec = recusals(exps, [Candidate("S1")], declared=[("E01", "S1")])
    assert rec == {("E01", "S1"): "本人申报回避"}


def test_without_quorum_no_outcome():
    exps = experts(16, n_absent=9)      # 16 of 25 < 2/3 (needs 17)
    result = run(exps, [Candidate("S1")], ballots("S1", ["同意"] * 16))
    assert not result.quorum and result.quorum_needed == 17
    assert result.applications[0].outcome is None
    assert [a.code for a in result.anomalies] == ["no_quorum"]
    assert run(experts(17, 8), [Candidate("S1")], ballots("S1", ["同意"] * 17)).quorum


def _one_anomaly(exps, agenda, bs, code):
    result = run(exps, agenda, bs)
    assert [a.code for a in result.anomalies] == [code], result.anomalies
    return result


def test_absent_expert_ballot_is_an_anomaly_and_withholds():
    exps = experts(3, n_absent=1)
    bs = ballots("S1", ["同意"] * 3) + [CastBallot(9, "b.csv", "A00", "S1", "同意")]
    result = _one_anomaly(exps, [Candidate("S1"), Candidate("S2")], bs + ballots("S2", ["同意"] * 3),
                          "absent_ballot")
    assert result.anomalies[0].rows == (9,)
    assert result.applications[0].outcome is None          # S1 touched
    assert result.applications[1].outcome == PASS          # S2 not


def test_recused_expert_ballot_is_an_anomaly():
    exps = experts(3, employer={0: "乙"})
    result = _one_anomaly(exps, [Candidate("S1", employer_name="乙")], ballots("S1", ["同意"] * 3),
                          "recused_ballot")
    assert result.applications[0].outcome is None


def test_duplicate_ballot_lists_both_rows():
    bs = ballots("S1", ["同意"] * 3) + [CastBallot(7, "b.csv", "E01", "S1", "不同意")]
    result = _one_anomaly(experts(3), [Candidate("S1")], bs, "duplicate_ballot")
    assert result.anomalies[0].rows == (3, 7)
    assert result.applications[0].outcome is None


def test_ballot_for_application_not_on_agenda():
    bs = ballots("S1", ["同意"] * 3) + [CastBallot(8, "b.csv", "E00", "S9", "同意")]
    result = _one_anomaly(experts(3), [Candidate("S1")], bs, "not_on_agenda")
    assert result.applications[0].outcome == PASS
    assert result.anomalies[0].application == "S9"


def test_proxy_ballot():
    bs = ballots("S1", ["同意"] * 2) + [CastBallot(4, "b.csv", "E02", "S1", "同意", cast_by="E00")]
    result = _one_anomaly(experts(3), [Candidate("S1")], bs, "proxy_ballot")
    assert result.applications[0].outcome is None


def test_ballot_of_someone_not_on_the_committee():
    bs = ballots("S1", ["同意"] * 3) + [CastBallot(6, "b.csv", "X99", "S1", "同意")]
    result = _one_anomaly(experts(3), [Candidate("S1")], bs, "unknown_member")
    assert result.anomalies[0].rows == (6,) and "X99" in result.anomalies[0].message
    assert result.applications[0].outcome is None      # withheld until a human resolves it


def test_everyone_recused_gives_no_outcome():
    exps = experts(3, employer={0: "丙", 1: "丙", 2: "丙"})
    result = _one_anomaly(exps, [Candidate("S1", employer_name="丙")], [], "no_counting_experts")
    (t,) = result.applications
    assert (t.present, t.recused, t.outcome) == (0, 3, None)


def test_missing_ballot_counts_as_present_not_yes():
    (t,) = run(experts(3), [Candidate("S1")], ballots("S1", ["同意"] * 2)).applications
    assert (t.present, t.yes, t.missing, t.threshold, t.outcome) == (3, 2, 1, 2, PASS)


def test_tally_result_has_no_member_votes():
    result = run(experts(3), [Candidate("S1")], ballots("S1", ["同意", "不同意", "弃权"]))
    assert "E00" not in repr(result.applications)


@given(st.integers(1, 400), st.integers(0, 400))
def test_pass_threshold_is_exact_two_thirds(counting, yes):
    yes = min(yes, counting)
    assert passes(yes, counting, TWO_THIRDS) == (3 * yes >= 2 * counting)
    least = TWO_THIRDS.least(counting)
    assert passes(least, counting, TWO_THIRDS)
    assert not passes(least - 1, counting, TWO_THIRDS)


@given(st.integers(1, 99).filter(lambda n: n % 2), st.integers(0, 99))
def test_quorum_is_exact_two_thirds(total, present):
    present = min(present, total)
    assert has_quorum(total, present, TWO_THIRDS) == (3 * present >= 2 * total)


@given(st.integers(1, 40), st.integers(0, 40), st.data())
def test_outcome_matches_rule_for_any_recusals(n, n_recused, data):
    n_recused = min(n_recused, n - 1)
    exps = experts(n, employer={i: "甲" for i in range(n_recused)})
    counting = n - n_recused
    yes = data.draw(st.integers(0, counting))
    votes = ["同意"] * yes + ["不同意"] * (counting - yes)
    bs = [CastBallot(i, None, f"E{n_recused + i:02d}", "S1", v) for i, v in enumerate(votes)]
    (t,) = run(exps, [Candidate("S1", employer_name="甲")], bs).applications
    assert t.present == counting and t.recused == n_recused
    assert t.outcome == (PASS if 3 * yes >= 2 * counting else FAIL)
