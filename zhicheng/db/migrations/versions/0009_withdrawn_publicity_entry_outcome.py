"""A publicity entry's outcome may say `withdrawn` (issue 22: 取消申请).

An application withdrawn by its applicant leaves the windows it is on with its entry
marked `withdrawn`, kept on the record; the column held only 8 characters (pending,
passed, held, removed). SQLite enforces no length, but the models and migrations must
agree on both engines. A downgrade fails on PostgreSQL while withdrawn entries exist,
rather than cut their outcome short.

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('publicity_entries', schema=None) as batch_op:
        batch_op.alter_column('outcome', existing_type=sa.String(length=8), type_=sa.String(length=16),
                              existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('publicity_entries', schema=None) as batch_op:
        batch_op.alter_column('outcome', existing_type=sa.String(length=16), type_=sa.String(length=8),
                              existing_nullable=False)
