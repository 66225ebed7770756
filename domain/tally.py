"""Counting an expert committee's secret ballots (专家评审), as rules.md says.

- quorum: members present >= 2/3 of the committee (人社部令第40号);
- an application passes with yes >= 2/3 of the experts present and not recused for it;
- an expert recuses (回避) for an applicant of the same employer or a declared conflict;
  the ballot, if any, does not count and the expert does not count towards the 2/3;
- absent experts cannot vote; no proxies; one ballot per expert and application.

Anything that breaks these rules is an `Anomaly` naming the file row; the applications
it touches get no outcome until a human resolves it (a session without quorum touches
all of them). Ratios are compared in exact integers (3*yes >= 2*counting), never floats.

Results carry counts only: nothing here says who voted how.

An application withdrawn by its applicant (取消申请) while on the agenda gets the outcome
`withdrawn`: its agenda item stays on the record, settled, and decides nothing. A session
is complete once every item on its agenda has an outcome.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from zhicheng.domain.application_status import ApplicationStatus

# ballot value as written on the paper / in the file -> what it counts as
VOTE_VALUES = {"同意": "yes", "不同意": "no", "弃权": "abstain", "空白": "abstain"}

PASS, FAIL, WITHDRAWN = "pass", "fail", "withdrawn"
AGENDA_OUTCOMES = (PASS, FAIL, WITHDRAWN)

ANOMALY_MESSAGES = {
    "no_quorum": "出席专家{present}人，不足评委会{total}人的2/3（至少{needed}人），本次会议不能表决",
    "absent_ballot": "专家{member}未出席会议，其选票无效",
    "recused_ballot": "专家{member}对该申报人应回避，其选票无效",
    "duplicate_ballot": "专家{member}对同一申报人投了不止一票",
    "not_on_agenda": "申报{application}不在本次会议议程上",
    "proxy_ballot": "专家{member}的选票由{cast_by}代投，不允许委托投票",
    "unknown_member": "专家{member}不是本评委会成员",
    "no_counting_experts": "申报{application}无可计票的专家（全部回避）",
}


@dataclass(frozen=True)
class Expert:
    code: str
    present: bool
    employer_uscc: str | None = None
    employer_name: str | None = None


@dataclass(frozen=True)
class Candidate:
    key: str                       # the application's submission id
    employer_uscc: str | None = None
    employer_name: str | None = None


@dataclass(frozen=True)
class CastBallot:
    row: int | None                # row in its source file (None when unknown)
    source: str | None
    member: str
    application: str
    vote: str                      # one of VOTE_VALUES
    cast_by: str | None = None     # who put it in the box, when not the expert


@dataclass(frozen=True)
class Anomaly:
    code: str
    message: str
    application: str | None = None
    member: str | None = None
    rows: tuple[int, ...] = ()
    source: str | None = None


@dataclass(frozen=True)
class Ratio:
    num: int
    den: int

    @classmethod
    def of(cls, pair: Iterable[int]) -> Ratio:
        num, den = pair
        if not 0 < num <= den:
            raise ValueError(f"a ratio needs 0 < numerator <= denominator, got {num}/{den}")
        return cls(int(num), int(den))

    def reached(self, part: int, whole: int) -> bool:
        return self.den * part >= self.num * whole

    def least(self, whole: int) -> int:
        """Smallest part with part/whole >= num/den (exact ceiling)."""
        return -(-self.num * whole // self.den)


@dataclass(frozen=True)
class ApplicationTally:
    application: str
    present: int          # experts present and not recused: the ones who count
    recused: int
    yes: int
    no: int
    abstain: int          # abstentions and blank ballots
    missing: int          # counting experts who cast no ballot (present, not yes)
    threshold: int        # yes votes needed
    outcome: str | None   # pass | fail | None (withheld by an anomaly)
    anomalies: tuple[str, ...] = ()


@dataclass(frozen=True)
class SessionTally:
    members_total: int
    present: int
    quorum_needed: int
    quorum: bool
    applications: tuple[ApplicationTally, ...]
    anomalies: tuple[Anomaly, ...] = field(default=())


def has_quorum(members_total: int, present: int, quorum: Ratio) -> bool:
    return quorum.reached(present, members_total)


def passes(yes: int, counting: int, pass_ratio: Ratio) -> bool:
    return counting > 0 and pass_ratio.reached(yes, counting)


def _same(a: str | None, b: str | None) -> bool:
    return bool(a and b and a.strip() == b.strip())


def must_recuse(expert: Expert, candidate: Candidate,
                declared: frozenset[tuple[str, str]] = frozenset()) -> str | None:
    """Why `expert` must recuse for `candidate`, or None."""
    if (expert.code, candidate.key) in declared:
        return "本人申报回避"
    if _same(expert.employer_uscc, candidate.employer_uscc) or \
            _same(expert.employer_name, candidate.employer_name):
        return "与申报人同一工作单位"
    return None


def recusals(experts: Iterable[Expert], agenda: Iterable[Candidate],
             declared: Iterable[tuple[str, str]] = ()) -> dict[tuple[str, str], str]:
    """(member, application) -> reason, for every pair that must recuse."""
    declared = frozenset(declared)
    agenda = list(agenda)
    out = {}
    for e in experts:
        for c in agenda:
            reason = must_recuse(e, c, declared)
            if reason:
                out[(e.code, c.key)] = reason
    return out


def _anomaly(code: str, *, ballots: Sequence[CastBallot] = (), **params) -> Anomaly:
    rows = tuple(b.row for b in ballots if b.row is not None)
    source = next((b.source for b in ballots if b.source), None)
    return Anomaly(code, ANOMALY_MESSAGES[code].format(**params),
                   params.get("application"), params.get("member"), rows, source)


def tally(*, members_total: int, experts: Iterable[Expert], agenda: Iterable[Candidate],
          ballots: Iterable[CastBallot], recused: Mapping[tuple[str, str], str],
          quorum: Ratio, pass_ratio: Ratio) -> SessionTally:
    """Count a session's ballots. `recused` comes from `recusals` (plus any recorded)."""
    by_code = {e.code: e for e in experts}
    keys = [c.key for c in agenda]
    on_agenda = set(keys)
    present = sum(e.present for e in by_code.values())
    quorum_ok = has_quorum(members_total, present, quorum)
    anomalies: list[Anomaly] = []
    touched: dict[str, list[str]] = {k: [] for k in keys}
    if not quorum_ok:
        anomalies.append(_anomaly("no_quorum", present=present, total=members_total,
                                  needed=quorum.least(members_total)))
    valid: dict[tuple[str, str], CastBallot] = {}
    grouped: dict[tuple[str, str], list[CastBallot]] = {}
    for b in ballots:
        grouped.setdefault((b.member, b.application), []).append(b)
    for (member, app), group in grouped.items():
        code = _ballot_fault(by_code.get(member), app, on_agenda, recused, group)
        if code is None:
            valid[(member, app)] = group[0]
            continue
        params = {"member": member, "application": app,
                  "cast_by": next((b.cast_by for b in group if b.cast_by), "")}
        anomalies.append(_anomaly(code, ballots=group, **params))
        if app in touched:
            touched[app].append(code)
    results = [_count(app, by_code, recused, valid, pass_ratio,
                      withheld=not quorum_ok or bool(touched[app]),
                      codes=(("no_quorum",) if not quorum_ok else ()) + tuple(touched[app]))
               for app in keys]
    for r in results:
        if r.present == 0:
            anomalies.append(_anomaly("no_counting_experts", application=r.application))
    return SessionTally(members_total, present, quorum.least(members_total), quorum_ok,
                        tuple(results), tuple(anomalies))


def _ballot_fault(expert: Expert | None, app: str, on_agenda: set[str],
                  recused: Mapping[tuple[str, str], str], group: list[CastBallot]) -> str | None:
    """The rule a group of ballots (one expert, one application) breaks, if any."""
    if expert is None:
        return "unknown_member"
    if app not in on_agenda:
        return "not_on_agenda"
    if not expert.present:
        return "absent_ballot"
    if (expert.code, app) in recused:
        return "recused_ballot"
    if any(b.cast_by and b.cast_by != expert.code for b in group):
        return "proxy_ballot"
    if len(group) > 1:
        return "duplicate_ballot"
    return None


def _count(app: str, experts: Mapping[str, Expert], recused: Mapping[tuple[str, str], str],
           valid: Mapping[tuple[str, str], CastBallot], pass_ratio: Ratio, *,
           withheld: bool, codes: tuple[str, ...]) -> ApplicationTally:
    counting = [e for e in experts.values() if e.present and (e.code, app) not in recused]
    n_recused = sum(1 for e in experts.values() if e.present and (e.code, app) in recused)
    votes = [VOTE_VALUES[valid[(e.code, app)].vote] for e in counting if (e.code, app) in valid]
    yes, no, abstain = votes.count("yes"), votes.count("no"), votes.count("abstain")
    n = len(counting)
    if withheld or n == 0:
        outcome = None
    else:
        outcome = PASS if passes(yes, n, pass_ratio) else FAIL
    if n == 0 and "no_counting_experts" not in codes:
        codes = codes + ("no_counting_experts",)
    return ApplicationTally(app, n, n_recused, yes, no, abstain, n - len(votes),
                            pass_ratio.least(n), outcome, codes)


def on_withdrawal(recorded: str | None) -> str:
    """An agenda item's outcome once its application is withdrawn (取消申请): an item not
    yet decided becomes `withdrawn`; a recorded outcome stays (it is recorded once)."""
    if recorded is not None and recorded not in AGENDA_OUTCOMES:
        raise ValueError(f"unknown agenda outcome {recorded!r}")
    return WITHDRAWN if recorded is None else recorded


def agenda_outcome(*, tallied: str | None, recorded: str | None, application_status: str) -> str | None:
    """What one agenda item's result is: the outcome recorded for it, else `withdrawn`
    for a withdrawn application (its ballots decide nothing), else the tally's."""
    if recorded is not None:
        return recorded
    if application_status == ApplicationStatus.WITHDRAWN:
        return WITHDRAWN
    return tallied


def session_complete(recorded: Iterable[str | None]) -> bool:
    """Whether a session is tallied: every agenda item has its outcome (pass, fail or
    withdrawn)."""
    return all(outcome is not None for outcome in recorded)


def open_anomalies(anomalies: Iterable[Anomaly], withdrawn: Iterable[str]) -> tuple[Anomaly, ...]:
    """The anomalies a person must still resolve: not those of an application withdrawn
    from the agenda (its ballots decide nothing); a session's (no quorum) always."""
    gone = set(withdrawn)
    return tuple(a for a in anomalies if a.application is None or a.application not in gone)
