"""The audit trail is append-only on SQLite too.

PostgreSQL refused UPDATE, DELETE and TRUNCATE of `decisions` from the start (0001);
SQLite, the embedded default, let any SQL edit or delete a decision. Two triggers
now abort such a statement there as well.

Revision ID: 0003
Revises: 0002
"""
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# Frozen copy of zhicheng.db.models.review.SQLITE_AUDIT_TRIGGER_SQL.
SQLITE_AUDIT_TRIGGER_SQL = tuple(
    f"CREATE TRIGGER IF NOT EXISTS decisions_append_only_{kind.lower()} BEFORE {kind} ON decisions "
    f"BEGIN SELECT RAISE(ABORT, 'audit trail decisions: {kind} is not allowed (append-only)'); END"
    for kind in ("UPDATE", "DELETE"))


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for sql in SQLITE_AUDIT_TRIGGER_SQL:
            op.execute(sql)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS decisions_append_only_update")
        op.execute("DROP TRIGGER IF EXISTS decisions_append_only_delete")
