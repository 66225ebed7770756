"""The kernel's tables, shared by every feature: applications and their revisions,
materials and findings, applicants and employers, committees and batches, the outbox,
run locks, staff accounts, quality results. A feature keeps its own tables in its
package (`zhicheng.votes.models`); `zhicheng.schema` registers them all."""
from zhicheng.db.models.applications import (Application, ApplicationRevision, Finding,
                                             Material, SyncCursor)
from zhicheng.db.models.committees import Batch, Committee, CommitteeMember
from zhicheng.db.models.locks import RunLock
from zhicheng.db.models.outbox import OutboxItem
from zhicheng.db.models.parties import Applicant, Employer
from zhicheng.db.models.quality import QualityResult
from zhicheng.db.models.web import RequestNonce, StaffAccount, StaffLookup

__all__ = [
    "Applicant", "Employer", "Committee", "CommitteeMember", "Batch",
    "Application", "ApplicationRevision", "Material", "Finding", "SyncCursor",
    "OutboxItem", "RunLock", "StaffAccount", "StaffLookup", "RequestNonce", "QualityResult",
]
