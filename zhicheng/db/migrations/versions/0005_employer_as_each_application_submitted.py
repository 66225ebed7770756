"""The employer as each application submitted it.

`employers` is keyed by USCC and holds the words of the latest submission naming that
USCC, so one applicant could change the employer name shown next to every other
applicant of that employer (publicity lists, vote reports, the overdue report's
office) and the region that decides who issues their certificates. Each application
now keeps its own copy of what it submitted: name, nature and supervising department
(its region was already kept, as `region_code`). Existing applications get the current
employer row's words, the best record there is of what they submitted.

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

COLUMNS = (("employer_name", "name", 200), ("employer_nature", "nature", 16),
           ("employer_supervising_dept", "supervising_dept", 200))


def upgrade() -> None:
    for column, _, size in COLUMNS:
        op.add_column('applications', sa.Column(column, sa.String(length=size), nullable=True))
    of_employer = "(SELECT e.{0} FROM employers e WHERE e.id = applications.employer_id)"
    sets = ", ".join(f"{column} = {of_employer.format(source)}" for column, source, _ in COLUMNS)
    op.execute(f"UPDATE applications SET {sets} WHERE employer_id IS NOT NULL")
    op.execute(f"UPDATE applications SET region_code = {of_employer.format('region_code')} "
               "WHERE employer_id IS NOT NULL AND region_code IS NULL")


def downgrade() -> None:
    for column, _, _ in reversed(COLUMNS):
        op.drop_column('applications', column)
