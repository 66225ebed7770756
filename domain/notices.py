"""Notices to applicants through the hall (external-systems.md §1, `POST /api/v1/notifications`)
beyond returns and rejections: passing review and publicity (公示).

Seed 003:42: once the title office's review is passed (经市职称办审核通过后) the applicant
gets an SMS saying so (`passed_review`). Seed 004:41: the applicants on a publicity list
are told it is published, so they can look themselves up (`publicity`). Each notice is
one outbox item; its dedupe key, also the hall's `idempotency_key`, names the event, so a
re-run that meets the same event again sends nothing new.

Params are strings (the contract's `{"any": "strings"}`) and carry no ID or phone
number: the `id_number` field beside them is the hall's addressee key (docs/privacy.md).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

PASSED_REVIEW = "passed_review"
PUBLICITY = "publicity"
REVIEW_KIND = "review"
# A chain whose office review is followed straight by registration (历史登记) tells the
# applicant at registration, with the same template: one notice, not two.
NOTIFIED_LATER_KINDS = ("register",)


def passes_review(chain: Sequence[str], stage_index: int, kinds: Mapping[str, str]) -> bool:
    """Whether approving the stage at `stage_index` is the applicant passing review: it is
    the chain's last office review stage (`review` kind; 职称办审核 on the 初定 chain, the last
    审核 before 评前公示 on a 评审 chain), and what follows is not a registration that says so
    itself."""
    if not 0 <= stage_index < len(chain) or kinds.get(chain[stage_index]) != REVIEW_KIND:
        return False
    if any(kinds.get(stage) == REVIEW_KIND for stage in chain[stage_index + 1:]):
        return False
    following = chain[stage_index + 1] if stage_index + 1 < len(chain) else None
    return following is None or kinds.get(following) not in NOTIFIED_LATER_KINDS


def passed_review_key(submission_id: str, revision: int) -> str:
    """The event: this revision of this application passed review (once: no stage after the
    last review stage can return it)."""
    return f"{PASSED_REVIEW}:{submission_id}:r{revision}"


def passed_review_params(*, name: str, submission_id: str, track: str | None, stage: str,
                         office: str, decided_on: dt.date) -> dict[str, str]:
    return {"name": name, "submission_id": submission_id, "track": track or "", "stage": stage,
            "office": office, "decided_on": decided_on.isoformat()}


def publicity_key(window_id: int, submission_id: str) -> str:
    """The event: this application is on this publicity window's list."""
    return f"{PUBLICITY}:w{window_id}:{submission_id}"


def publicity_params(*, name: str, submission_id: str, track: str | None, kind: str, stage: str,
                     window_id: int, office: str, published_on: dt.date, opens_on: dt.date,
                     closes_on: dt.date) -> dict[str, str]:
    """What the applicant is told of a window: which 公示, by whom, and when objections may
    be lodged (until 24:00 of `closes_on`)."""
    return {"name": name, "submission_id": submission_id, "track": track or "", "kind": kind,
            "stage": stage, "window": str(window_id), "office": office,
            "published_on": published_on.isoformat(), "opens_on": opens_on.isoformat(),
            "closes_on": closes_on.isoformat()}


def notification(*, id_number: str, template: str, params: Mapping[str, str], key: str) -> dict:
    """The body of `POST /api/v1/notifications`, as the outbox keeps it."""
    return {"id_number": id_number, "template": template, "params": dict(params), "idempotency_key": key}


def outbox_item(*, template: str, key: str, id_number: str, params: Mapping[str, str]) -> dict:
    """A notice as the outbox queues it for the hall (zhicheng.outbox.enqueue_many)."""
    return {"target": "hall_notification", "kind": template, "dedupe_key": key,
            "payload": notification(id_number=id_number, template=template, params=params, key=key)}
