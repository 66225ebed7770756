"""The verification and query service (zhicheng web): staff accounts of the title
offices, the audit of their look-ups (append-only, like the rest of the audit trail),
and the nonces of signed requests to us, shared by every worker process.

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

# Frozen copy of zhicheng.db.audit's SQL for staff_lookups (strictly append-only).
POSTGRES_SQL = (
    """
    CREATE TRIGGER staff_lookups_append_only
        BEFORE UPDATE OR DELETE ON staff_lookups
        FOR EACH ROW EXECUTE FUNCTION zhicheng_refuse_audit_change()
    """,
    """
    CREATE TRIGGER staff_lookups_no_truncate
        BEFORE TRUNCATE ON staff_lookups
        FOR EACH STATEMENT EXECUTE FUNCTION zhicheng_refuse_audit_change()
    """,
)
SQLITE_SQL = (
    "CREATE TRIGGER IF NOT EXISTS staff_lookups_append_only_delete BEFORE DELETE ON staff_lookups "
    "BEGIN SELECT RAISE(ABORT, 'audit trail staff_lookups: DELETE is not allowed (append-only)'); END",
    "CREATE TRIGGER IF NOT EXISTS staff_lookups_append_only_update BEFORE UPDATE ON staff_lookups "
    "BEGIN SELECT RAISE(ABORT, 'audit trail staff_lookups: UPDATE is not allowed (append-only)'); END",
)


def upgrade() -> None:
    op.create_table(
        'staff_accounts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('password_hash', sa.String(length=255), nullable=False),
        sa.Column('office', sa.String(length=200), nullable=False),
        sa.Column('region_code', sa.String(length=6), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_accounts')),
        sa.UniqueConstraint('username', name=op.f('uq_staff_accounts_username')),
    )
    op.create_table(
        'staff_lookups',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('office', sa.String(length=200), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('criteria', JSON, nullable=False),
        sa.Column('results', sa.Integer(), nullable=False),
        sa.Column('subjects', JSON, nullable=False),
        sa.Column('client', sa.String(length=64), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['staff_accounts.id'],
                                name=op.f('fk_staff_lookups_account_id_staff_accounts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_lookups')),
    )
    op.create_index(op.f('ix_staff_lookups_account_id'), 'staff_lookups', ['account_id'])
    op.create_index(op.f('ix_staff_lookups_at'), 'staff_lookups', ['at'])
    op.create_table(
        'request_nonces',
        sa.Column('app_id', sa.String(length=64), nullable=False),
        sa.Column('nonce', sa.String(length=64), nullable=False),
        sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('app_id', 'nonce', name=op.f('pk_request_nonces')),
    )
    op.create_index(op.f('ix_request_nonces_seen_at'), 'request_nonces', ['seen_at'])
    dialect = op.get_bind().dialect.name
    for sql in POSTGRES_SQL if dialect == "postgresql" else SQLITE_SQL if dialect == "sqlite" else ():
        op.execute(sql)


def downgrade() -> None:
    op.drop_index(op.f('ix_request_nonces_seen_at'), table_name='request_nonces')
    op.drop_table('request_nonces')
    op.drop_index(op.f('ix_staff_lookups_at'), table_name='staff_lookups')
    op.drop_index(op.f('ix_staff_lookups_account_id'), table_name='staff_lookups')
    op.drop_table('staff_lookups')
    op.drop_table('staff_accounts')
