"""One decision per stage and revision, kept by the database.

Until now only a row lock on the application kept two deciders apart; on SQLite
(which ignores FOR UPDATE) or in any path that skips the lock, the same stage could be
decided twice. The unique index (application, revision, stage_index) makes the
database refuse it on both engines. A resubmission is a new revision, so the stage
that returned it can be decided again in the new round.

Existing duplicates cannot be cleaned up here: the audit trail is append-only. The
upgrade stops and names them, so a person decides what the record should say.

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

from zhicheng.db.errors import MigrationRefused

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# Frozen copy of zhicheng.db.models.review.DECISION_KEY.
DECISION_KEY = "uq_decisions_application_id_revision_stage_index"


def upgrade() -> None:
    duplicates = op.get_bind().execute(sa.text(
        "SELECT application_id, revision, stage_index, COUNT(*) FROM decisions "
        "GROUP BY application_id, revision, stage_index HAVING COUNT(*) > 1 "
        "ORDER BY application_id, revision, stage_index")).all()
    if duplicates:
        listed = "; ".join(f"application {a} revision {r} stage_index {i}: {n} decisions"
                           for a, r, i, n in duplicates[:20])
        more = f" (and {len(duplicates) - 20} more)" if len(duplicates) > 20 else ""
        raise MigrationRefused(
            f"decisions: {len(duplicates)} stage(s) were decided more than once in one revision, "
            f"so the one-decision-per-stage index cannot be created: {listed}{more}. The audit trail "
            "is append-only; have the review office settle which decision stands before upgrading.")
    op.create_index(DECISION_KEY, 'decisions', ['application_id', 'revision', 'stage_index'], unique=True)


def downgrade() -> None:
    op.drop_index(DECISION_KEY, table_name='decisions')
