"""The ballots a file stored, found without reading the session's others.

A ballot import skips the rows its file already stored (a re-import is harmless). It
looked them up among all of the session's ballots, so a session's k-th file read the
files before it: at 450,000 ballots in 91 files (a province committee's session), 2.5 s
of CPU growing with the square of the session; with (session_id, source_file) indexed,
3 ms.

Revision ID: 0011
Revises: 0010
"""
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.create_index('ix_ballots_session_source', ['session_id', 'source_file'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.drop_index('ix_ballots_session_source')
