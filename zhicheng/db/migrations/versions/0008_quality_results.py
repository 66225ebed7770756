"""The results of every data-quality run, check by check (issue 24).

Each run's results were kept only as files of that run; a data team charting failed
rows by check and day, and the quality artifact saying what changed since the last
run, need them as a table.

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('quality_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('run_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('batch_year', sa.Integer(), nullable=True),
    sa.Column('suite', sa.String(length=64), nullable=False),
    sa.Column('check_name', sa.String(length=200), nullable=False),
    sa.Column('team', sa.Boolean(), nullable=False),
    sa.Column('success', sa.Boolean(), nullable=False),
    sa.Column('unexpected_count', sa.Integer(), nullable=True),
    sa.Column('checked', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_results'))
    )
    op.create_index('ix_quality_results_check', 'quality_results', ['suite', 'check_name', 'run_at'])
    op.create_index(op.f('ix_quality_results_run_id'), 'quality_results', ['run_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_quality_results_run_id'), table_name='quality_results')
    op.drop_index('ix_quality_results_check', table_name='quality_results')
    op.drop_table('quality_results')
