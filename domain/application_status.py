"""An application's status over its life (办件状态), the one list of them.

A `StrEnum`: each member is the very string stored in `applications.status` and shown in
exports and `zhicheng show`, so a member equals the stored value, a stored value equals
its member, and nothing stored or printed changes. The Chinese terms are in
docs/glossary.md ("Application statuses").
"""
from __future__ import annotations

from enum import StrEnum


class ApplicationStatus(StrEnum):
    RECEIVED = "received"      # 已收件: taken in from the hall, waiting for validation
    INVALID = "invalid"        # 数据不合规: the hall's data broke its contract; returned at intake
    VALIDATED = "validated"    # 已校验（待分配流程）: passed validation, no chain fits its route
    RETURNED = "returned"      # 已退回修改: with the applicant to correct and resubmit
    IN_REVIEW = "in_review"    # 审核中: on its review chain
    APPROVED = "approved"      # 已通过（待发证）: passed every stage before the certificate
    REJECTED = "rejected"      # 已不通过: a stage or the vote rejected it
    WITHDRAWN = "withdrawn"    # 已撤回（取消申请）: the applicant cancelled it in the hall
    ISSUED = "issued"          # 已发证: its e-certificate was issued
    REGISTERED = "registered"  # 已登记: its historic certificate was registered (历史登记)
