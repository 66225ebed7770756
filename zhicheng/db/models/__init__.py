"""Every table of zhicheng; importing this module registers them all on Base.metadata."""
from zhicheng.db.base import Base
from zhicheng.db.models.applications import (Application, ApplicationRevision, Finding,
                                             Material, SyncCursor)
from zhicheng.db.models.certificates import Certificate, IssuanceRun, SerialCounter
from zhicheng.db.models.committees import Batch, Committee, CommitteeMember
from zhicheng.db.models.education import ChsiAnswer, EducationCheck
from zhicheng.db.models.operations import RunLock, YearEndStep
from zhicheng.db.models.outbox import OutboxItem
from zhicheng.db.models.parties import Applicant, Employer
from zhicheng.db.models.publicity import Objection, PublicityEntry, PublicityWindow
from zhicheng.db.models.review import Decision, ReviewStep
from zhicheng.db.models.voting import (AgendaItem, Attendance, Ballot, Recusal,
                                       VotingSession)

__all__ = [
    "Base", "Applicant", "Employer", "Committee", "CommitteeMember", "Batch",
    "Application", "ApplicationRevision", "Material", "Finding", "SyncCursor",
    "ReviewStep", "Decision", "VotingSession", "AgendaItem", "Attendance", "Recusal",
    "Ballot", "PublicityWindow", "PublicityEntry", "Objection", "Certificate",
    "IssuanceRun", "SerialCounter", "OutboxItem", "YearEndStep", "RunLock",
    "ChsiAnswer", "EducationCheck",
]
