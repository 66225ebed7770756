#!/usr/bin/env bash
# Regenerate the initial migration from the models. Allowed only until the first
# release: after that, every schema change is a new revision (alembic revision --autogenerate).
set -euo pipefail
cd "$(dirname "$0")/../../.."
rm -f zhicheng/db/migrations/versions/0001_initial_schema.py /tmp/regen.db
.venv/bin/python - <<'PY'
from alembic import command
from zhicheng.db.migrate import alembic_config
cfg = alembic_config("sqlite:////tmp/regen.db")
command.revision(cfg, message="initial schema", autogenerate=True, rev_id="0001")
PY
f=zhicheng/db/migrations/versions/0001_initial_schema.py
sed -i 's/astext_type=Text()/astext_type=sa.Text()/g; s/^Create Date: .*/Create Date: 2026-11-24/' $f
.venv/bin/python - "$f" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace("from sqlalchemy.dialects import postgresql\n",
  "from sqlalchemy.dialects import postgresql\n\n# Frozen copy of zhicheng.db.audit.postgres_sql(decisions): the audit trail is append-only.\nAUDIT_TRIGGER_SQL = " + repr(__import__("zhicheng.db.audit", fromlist=["x"]).postgres_sql([__import__("zhicheng.db.audit", fromlist=["x"]).AUDIT_RULES[0]])) + "\n", 1)
up_end = s.index("    # ### end Alembic commands ###")
s = s[:up_end] + "    # ### end Alembic commands ###\n    if op.get_bind().dialect.name == \"postgresql\":\n        for sql in AUDIT_TRIGGER_SQL:\n            op.execute(sql)\n" + s[up_end+len("    # ### end Alembic commands ###\n"):]
s = s.replace("def downgrade() -> None:\n", "def downgrade() -> None:\n    if op.get_bind().dialect.name == \"postgresql\":\n        op.execute(\"DROP TRIGGER IF EXISTS decisions_append_only ON decisions\")\n        op.execute(\"DROP TRIGGER IF EXISTS decisions_no_truncate ON decisions\")\n        op.execute(\"DROP FUNCTION IF EXISTS zhicheng_refuse_audit_change()\")\n", 1)
open(p, "w").write(s)
PY
echo regenerated $f
