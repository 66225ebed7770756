"""What a 补办/换发 or 历史登记 found when it looked its number up.

A re-issue starts from a certificate the province holds (seed 000: if it cannot be
found, 历史登记 first), and a 历史登记 registers only what the province lacks. Each
application revision's look-up (our registry, then the province by number) is kept
with the record found, so validation judges on a definite answer, an outage leaves the
application waiting rather than returned, and issuance takes the origin and the
revocation of a former platform's certificate from what the province said.

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('certificate_lookups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('certificate_no', sa.String(length=64), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=True),
    sa.Column('record', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_certificate_lookups_application_id_applications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate_lookups')),
    sa.UniqueConstraint('application_id', 'revision', name=op.f('uq_certificate_lookups_application_id_revision'))
    )
    with op.batch_alter_table('certificate_lookups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificate_lookups_application_id'), ['application_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('certificate_lookups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificate_lookups_application_id'))
    op.drop_table('certificate_lookups')
