"""The audit trail: tables whose rows are written once and then only amended as the
rules allow, enforced by the database itself on both engines (docs/audit-trail.md).

Each table has one rule (AUDIT_RULES):

- strictly append-only (decisions, issuance runs, the hall's revisions, 学信's
  answers, staff look-ups of the web service): no UPDATE, no DELETE;
- amended once (certificates, ballots, objections): no DELETE; an UPDATE may touch
  only the listed columns and only as the named transition (a revocation, a void, a
  decision), after which the row is fixed;
- a vote's record (voting sessions, agenda, attendance, recusals): a draft that a
  re-imported session workbook may replace until the session's first ballot; from
  then on no DELETE, and an UPDATE only of the listed columns.

TRUNCATE is refused on every one of them. PostgreSQL gets one trigger function per
table (the refusal names the table, the row id and the columns); SQLite, which has no
trigger functions, gets triggers with RAISE(ABORT). Triggers stop the application's
own SQL; they do not stop a role that owns the tables (it may disable them), so in
production the application connects as a runtime role without ownership
(zhicheng.db.roles). `install(metadata)` attaches the same SQL to create_all that the
migrations install (0004 keeps a frozen copy).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, MetaData, Table, event


@dataclass(frozen=True)
class Rule:
    table: str
    mutable: tuple[str, ...] = ()      # the only columns an UPDATE may change
    transition: str | None = None      # SQL over OLD/NEW that every UPDATE must satisfy
    says: str = ""                     # the allowed amendment, for the refusal
    session_column: str | None = None  # a vote's record: a draft until this session has a ballot

    @property
    def strict(self) -> bool:
        return not self.mutable and self.session_column is None


AUDIT_RULES: tuple[Rule, ...] = (
    Rule("decisions"),
    Rule("issuance_runs"),
    Rule("application_revisions"),
    Rule("chsi_answers"),
    Rule("certificates", mutable=("status", "revoked_at", "revoke_reason", "version"),
         transition=("OLD.status = 'valid' AND NEW.status = 'revoked' AND NEW.revoked_at IS NOT NULL "
                     "AND NEW.revoke_reason IS NOT NULL AND NEW.version = OLD.version + 1"),
         says="a revocation of a valid certificate (status revoked, revoked_at, revoke_reason, version + 1)"),
    Rule("ballots", mutable=("voided_at", "void_reason"),
         transition="OLD.voided_at IS NULL AND NEW.voided_at IS NOT NULL AND NEW.void_reason IS NOT NULL",
         says="voiding a ballot once (voided_at, void_reason)"),
    Rule("objections", mutable=("status", "decided_at", "decision_reason"),
         transition=("OLD.status = 'open' AND NEW.status IN ('upheld', 'dismissed') "
                     "AND NEW.decided_at IS NOT NULL"),
         says="deciding an open objection once (status upheld or dismissed, decided_at, decision_reason)"),
    Rule("voting_sessions", mutable=("status",), session_column="id"),
    Rule("agenda_items", mutable=("outcome",), session_column="session_id",
         transition="OLD.outcome IS NULL", says="recording its outcome once"),
    Rule("attendance", session_column="session_id"),
    Rule("recusals", session_column="session_id"),
    Rule("staff_lookups"),
)
AUDIT_TABLES = tuple(r.table for r in AUDIT_RULES)

REFUSE_FUNCTION = """
    CREATE OR REPLACE FUNCTION zhicheng_refuse_audit_change() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'audit trail %: % is not allowed (append-only)', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END;
    $$ LANGUAGE plpgsql
    """


def _voting_draft(rule: Rule) -> str:
    """True once the row's voting session has a ballot: from then on the rule holds."""
    return f"EXISTS (SELECT 1 FROM ballots WHERE ballots.session_id = OLD.{rule.session_column})"


def _guard_function(rule: Rule) -> str:
    """A plpgsql function for an amendable table: names the table, row and columns."""
    t = rule.table
    allowed = ", ".join(f"'{c}'" for c in rule.mutable) or "''"
    may = ", ".join(rule.mutable)
    draft = (f"""
        IF NOT {_voting_draft(rule)} THEN
            IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
            RETURN NEW;
        END IF;""" if rule.session_column else "")
    once = " once its voting session has ballots" if rule.session_column else ""
    only = f"; only {may} may change" if may else ""
    check = (f"""
        IF NOT ({rule.transition}) THEN
            RAISE EXCEPTION 'audit trail {t}: UPDATE of row % is not allowed: the only change is {rule.says}', OLD.id
                USING ERRCODE = 'insufficient_privilege';
        END IF;""" if rule.transition else "")
    return f"""
    CREATE OR REPLACE FUNCTION zhicheng_guard_{t}() RETURNS trigger AS $$
    DECLARE
        changed text;
    BEGIN{draft}
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'audit trail {t}: DELETE of row % is not allowed{once} (append-only)', OLD.id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        SELECT string_agg(n.key, ', ' ORDER BY n.key) INTO changed FROM jsonb_each(to_jsonb(NEW)) AS n
            WHERE n.key <> ALL (ARRAY[{allowed}]::text[]) AND n.value IS DISTINCT FROM to_jsonb(OLD) -> n.key;
        IF changed IS NOT NULL THEN
            RAISE EXCEPTION 'audit trail {t}: UPDATE of % in row % is not allowed{once} (append-only{only})',
                changed, OLD.id
                USING ERRCODE = 'insufficient_privilege';
        END IF;{check}
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql
    """


def postgres_sql(rules: Iterable[Rule] = AUDIT_RULES) -> tuple[str, ...]:
    """CREATE statements for these tables' functions and triggers (the shared function first)."""
    out = [REFUSE_FUNCTION]
    for rule in rules:
        t = rule.table
        function = "zhicheng_refuse_audit_change" if rule.strict else f"zhicheng_guard_{t}"
        if not rule.strict:
            out.append(_guard_function(rule))
        out.append(f"""
    CREATE TRIGGER {t}_append_only
        BEFORE UPDATE OR DELETE ON {t}
        FOR EACH ROW EXECUTE FUNCTION {function}()
    """)
        out.append(f"""
    CREATE TRIGGER {t}_no_truncate
        BEFORE TRUNCATE ON {t}
        FOR EACH STATEMENT EXECUTE FUNCTION zhicheng_refuse_audit_change()
    """)
    return tuple(out)


def _sqlite_trigger(name: str, kind: str, table: str, when: list[str], message: str) -> str:
    condition = f" WHEN {' AND '.join(when)}" if when else ""
    return (f"CREATE TRIGGER IF NOT EXISTS {name} BEFORE {kind} ON {table}{condition} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END")


def sqlite_sql(tables: dict[str, list[str]], rules: Iterable[Rule] = AUDIT_RULES) -> tuple[str, ...]:
    """CREATE TRIGGER statements for SQLite; `tables` gives each table's columns (a
    trigger lists the columns that must not change, so a new column needs new triggers)."""
    out = []
    for rule in rules:
        t = rule.table
        draft = [_voting_draft(rule)] if rule.session_column else []
        once = " once its voting session has ballots" if rule.session_column else ""
        out.append(_sqlite_trigger(f"{t}_append_only_delete", "DELETE", t, draft,
                                   f"audit trail {t}: DELETE is not allowed{once} (append-only)"))
        if not rule.mutable:
            out.append(_sqlite_trigger(f"{t}_append_only_update", "UPDATE", t, draft,
                                       f"audit trail {t}: UPDATE is not allowed{once} (append-only)"))
            continue
        fixed = [c for c in tables[t] if c not in rule.mutable]
        changed = "(" + " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in fixed) + ")"
        out.append(_sqlite_trigger(
            f"{t}_fixed_columns", "UPDATE", t, [*draft, changed],
            f"audit trail {t}: UPDATE of a fixed column is not allowed{once} "
            f"(append-only; only {', '.join(rule.mutable)} may change)"))
        if rule.transition:
            out.append(_sqlite_trigger(
                f"{t}_one_amendment", "UPDATE", t, [*draft, f"NOT ({rule.transition})"],
                f"audit trail {t}: UPDATE is not allowed: the only change is {rule.says}"))
    return tuple(out)


def columns_of(metadata: MetaData) -> dict[str, list[str]]:
    return {t: [c.name for c in metadata.tables[t].columns] for t in AUDIT_TABLES}


def install(metadata: MetaData) -> None:
    """Create the triggers whenever create_all creates the tables (tests, fresh installs
    without migrations): after the whole metadata, as a vote's triggers read `ballots`;
    only for the tables this create_all made (a second one finds them and makes none)."""
    columns = columns_of(metadata)

    def after_create(target: MetaData, connection: Connection, *, tables: Sequence[Table] = (), **kw) -> None:
        rules = [r for r in AUDIT_RULES if r.table in {t.name for t in tables}]
        dialect = connection.dialect.name
        statements = (postgres_sql(rules) if dialect == "postgresql" and rules else
                      sqlite_sql(columns, rules) if dialect == "sqlite" else ())
        for sql in statements:
            connection.exec_driver_sql(sql.replace("%", "%%") if dialect == "postgresql" else sql)

    event.listen(metadata, "after_create", after_create)
