"""The staff file a quality result is about (issue 24: file checks kept over time).

A staff file's checks (ballots, rosters, sessions, decisions, objections) are kept in
quality_results beside the registry's, so a team charts both alike; a file check's row
names its file, which a registry run's leaves empty.

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('quality_results', schema=None) as batch_op:
        batch_op.add_column(sa.Column('file_name', sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('quality_results', schema=None) as batch_op:
        batch_op.drop_column('file_name')
