"""Suite `outbox`: nothing waits to be delivered longer than policy allows."""
from __future__ import annotations

import datetime as dt

from zhicheng.expectations.spec import Check, Params, Suite
from zhicheng.expectations.sql import Dialect, in_list

TARGETS = ("province", "hall_return", "hall_notification", "hall_cancellation")


def suite(p: Params) -> Suite:
    return Suite("outbox", "outbox", (_target(p), _pending(p)))


def _target(p: Params) -> Check:
    return Check(
        "target_known", "发送目标是 province、hall_return、hall_notification、hall_cancellation 之一",
        f"SELECT o.id AS outbox_id, o.target, o.kind, o.dedupe_key FROM {{batch}} o "
        f"WHERE o.target NOT IN {in_list(TARGETS)}")


def _pending(p: Params) -> Check:
    hours = p.config.policy.outbox.max_pending_hours
    cutoff = Dialect(p.dialect).timestamp(p.as_of - dt.timedelta(hours=hours))
    return Check(
        "nothing_pending_too_long", f"待发送的记录等待不超过 {hours:g} 小时（policy.yaml outbox.max_pending_hours）",
        f"SELECT o.id AS outbox_id, o.target, o.kind, o.dedupe_key, o.created_at, o.attempts, "
        f"o.last_error FROM {{batch}} o WHERE o.status = 'pending' AND o.created_at < {cutoff}")
