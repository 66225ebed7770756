"""The two PostgreSQL roles of a production install (docs/audit-trail.md).

The owner role owns the schema and the tables and runs the migrations
(`zhicheng db upgrade` with ZHICHENG_DATABASE_OWNER_URL). The application connects
as a runtime role that owns nothing: it may read and write the ordinary tables, only
INSERT into the strictly append-only ones, UPDATE only the columns an amendment may
change, and never TRUNCATE, ALTER or DISABLE TRIGGER (those need ownership). The
triggers of zhicheng.db.audit then hold against the application's own SQL, and no
SQL of the application can switch them off.

`check_role` refuses a runtime role that could act as the owner (superuser, CREATEROLE,
a member of the owner, the owner of a table or the schema); `grant_runtime` sets the
privileges (again after every upgrade, so new tables get them);
`privilege_problems` reads back what the role can really do, through any membership.
"""
from __future__ import annotations

from sqlalchemy import Connection, Engine, text

from zhicheng.db.audit import AUDIT_RULES, Rule
from zhicheng.db.errors import MigrationRefused

GUIDE = "see docs/audit-trail.md"


class RolesRefused(MigrationRefused):
    """The runtime role could rewrite the audit trail, or cannot be granted: nothing granted."""


def current_role(engine: Engine) -> str:
    with engine.connect() as conn:
        return conn.execute(text("SELECT current_user")).scalar_one()


def runtime_privileges(rule: Rule) -> tuple[str, tuple[str, ...]]:
    """Table privileges, and the columns it may UPDATE, of the runtime role on an audit table."""
    if rule.session_column:  # a vote's record is a draft until its first ballot: the trigger decides
        return "SELECT, INSERT, UPDATE, DELETE", ()
    return "SELECT, INSERT", rule.mutable


def check_role(conn: Connection, role: str) -> None:
    """Refuse a runtime role that could act as the owner of the audit trail (run as the owner)."""
    row = conn.execute(text(
        "SELECT r.rolsuper, r.rolcreaterole, pg_has_role(r.oid, (SELECT oid FROM pg_roles "
        "WHERE rolname = current_user), 'MEMBER'), current_user, current_schema() "
        "FROM pg_roles r WHERE r.rolname = :role"), {"role": role}).one_or_none()
    if row is None:
        raise RolesRefused(f"runtime role {role!r} does not exist; create it first "
                           f"(CREATE ROLE {role} LOGIN PASSWORD '...'; {GUIDE})")
    superuser, createrole, member_of_owner, owner, schema = row
    if role == owner:
        raise RolesRefused(f"runtime role {role!r} is the role that migrates: the application must connect "
                           f"as a role that owns nothing (ZHICHENG_DATABASE_URL), the migrations as the "
                           f"owner (ZHICHENG_DATABASE_OWNER_URL); {GUIDE}")
    problems = []
    if superuser:
        problems.append(f"is a superuser (ALTER ROLE {role} NOSUPERUSER)")
    if createrole:
        problems.append(f"has CREATEROLE and could make itself the owner (ALTER ROLE {role} NOCREATEROLE)")
    if member_of_owner:
        problems.append(f"is a member of the owner role {owner!r} (REVOKE {owner} FROM {role})")
    owned = conn.execute(text(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'S') "
        "AND pg_has_role(:role, c.relowner, 'MEMBER') ORDER BY c.relname"), {"role": role}).scalars().all()
    if owned:
        problems.append(f"owns {', '.join(owned)} (REASSIGN OWNED BY {role} TO {owner}, as a superuser)")
    if conn.execute(text("SELECT pg_has_role(:role, nspowner, 'MEMBER') FROM pg_namespace "
                         "WHERE nspname = current_schema()"), {"role": role}).scalar():
        problems.append(f"owns the schema {schema} (ALTER SCHEMA {schema} OWNER TO {owner})")
    if problems:
        raise RolesRefused(f"runtime role {role!r} could disable the audit triggers and rewrite the audit "
                           f"trail: it {'; it '.join(problems)}; nothing was changed ({GUIDE})")


def grant_runtime(conn: Connection, role: str) -> None:
    """The runtime role's privileges on the schema the owner works in (idempotent)."""
    q = conn.dialect.identifier_preparer.quote
    r, schema = q(role), q(conn.execute(text("SELECT current_schema()")).scalar_one())
    for sql in (f"GRANT USAGE ON SCHEMA {schema} TO {r}",
                f"REVOKE CREATE ON SCHEMA {schema} FROM {r}",
                f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {r}",
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {r}",
                f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {r}",
                f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {r}"):
        conn.exec_driver_sql(sql)
    for rule in AUDIT_RULES:
        table = q(rule.table)
        privileges, columns = runtime_privileges(rule)
        conn.exec_driver_sql(f"REVOKE ALL ON {table} FROM {r}")
        conn.exec_driver_sql(f"GRANT {privileges} ON {table} TO {r}")
        if columns:
            conn.exec_driver_sql(f"GRANT UPDATE ({', '.join(q(c) for c in columns)}) ON {table} TO {r}")


def privilege_problems(conn: Connection, role: str) -> list[str]:
    """What the runtime role can still do to the audit trail that it must not (directly,
    through PUBLIC or through another role it belongs to)."""
    problems = []
    for rule in AUDIT_RULES:
        privileges, columns = runtime_privileges(rule)
        forbidden = [p for p in ("UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER") if p not in privileges]
        found = [p for p in forbidden if conn.execute(text(
            "SELECT has_table_privilege(:role, quote_ident(current_schema()) || '.' || quote_ident(:t), :p)"),
            {"role": role, "t": rule.table, "p": p}).scalar()]
        if "UPDATE" not in privileges and "UPDATE" not in found:
            updatable = conn.execute(text(
                "SELECT a.attname FROM pg_attribute a WHERE a.attrelid = (quote_ident(current_schema()) "
                "|| '.' || quote_ident(:t))::regclass AND a.attnum > 0 AND NOT a.attisdropped "
                "AND has_column_privilege(:role, a.attrelid, a.attnum, 'UPDATE') ORDER BY a.attnum"),
                {"role": role, "t": rule.table}).scalars().all()
            found += [f"UPDATE ({c})" for c in updatable if c not in columns]
        if found:
            problems.append(f"{rule.table}: {', '.join(found)}")
    return problems
