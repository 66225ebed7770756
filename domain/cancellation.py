"""取消申请: whether an application can still be cancelled (seed 000:83-93).

An applicant may cancel until the point of no return: once a certificate is issued or
a historic one registered (it is at the province), or the application was rejected
(decided), nothing is left to cancel and the answer says why. A cancellation of an
application already withdrawn is accepted again (the hall may deliver it twice).
Unknown submissions are refused: nothing of them is here to stop.

An accepted cancellation is recorded like any other terminal decision: a `withdraw`
decision by the applicant (`withdrawal_at` says at which stage), so the history and the
decisions' quality checks say why the application ended.
"""
from __future__ import annotations

from collections.abc import Collection, Sequence

from zhicheng.domain.application_status import ApplicationStatus

CANCELLABLE = (ApplicationStatus.RECEIVED, ApplicationStatus.INVALID, ApplicationStatus.VALIDATED,
               ApplicationStatus.RETURNED, ApplicationStatus.IN_REVIEW, ApplicationStatus.APPROVED,
               ApplicationStatus.WITHDRAWN)
TOO_LATE: dict[str, str] = {
    ApplicationStatus.ISSUED: "cancellation.too_late_issued",
    ApplicationStatus.REGISTERED: "cancellation.too_late_issued",
    ApplicationStatus.REJECTED: "cancellation.already_decided",
}


def verdict(status: str | None) -> tuple[bool, str | None]:
    """(accepted, the finding code of a refusal) for an application in this status
    (None: the submission is not known here)."""
    if status is None:
        return False, "cancellation.unknown_submission"
    if status in CANCELLABLE:
        return True, None
    return False, TOO_LATE.get(status, "cancellation.already_decided")


# Where the application stands on its chain while its stage is still open: the withdrawal
# is recorded there. Otherwise (not on its chain yet, or back with the applicant after a
# return) it is with the applicant: the submission stage, index 0, which nobody else decides.
ON_CHAIN = (ApplicationStatus.IN_REVIEW, ApplicationStatus.APPROVED)


def withdrawal_at(*, status: str, chain: Sequence[str] | None, stage_index: int | None,
                  decided: Collection[int], submission_stage: str) -> tuple[int, str] | None:
    """(stage index, stage) of the decision that records a withdrawal, or None when that
    place is decided already in this revision (a withdrawal recorded before).
    `decided`: the stage indexes decided in the application's current revision;
    `submission_stage`: its track's first stage, for an application without a chain."""
    stages = list(chain or ())
    if status in ON_CHAIN and stage_index is not None and 0 < stage_index < len(stages) \
            and stage_index not in decided:
        return stage_index, stages[stage_index]
    if 0 in decided:
        return None
    return 0, stages[0] if stages else submission_stage


def withdrawal_reason(*, cancellation_id: str, requested_at: str | None, reason: str | None) -> str:
    """The decision's reason: the hall's cancellation, when it was asked for, and the
    applicant's own words when given."""
    when = f"，{requested_at} 提出" if requested_at else ""
    words = (reason or "").strip()
    return f"申请人取消申请（网上大厅取消编号 {cancellation_id}{when}）" + (f"：{words}" if words else "")
