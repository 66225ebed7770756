"""The whole audit trail is append-only, on both engines.

Until now only `decisions` refused UPDATE and DELETE. Certificates (as issued),
ballots, objections, recusals, attendance, agenda items, voting sessions, issuance
runs, the hall's revisions and 学信's answers could be rewritten by any SQL of the
application. Each gets the rule of zhicheng.db.audit: strictly append-only, or amended
once as the rules allow (a revocation, a void, the decision on an objection), or, for a
vote's record, a draft only until the session's first ballot. TRUNCATE is refused on
all of them (PostgreSQL). Rows already there are not checked: the rules hold from now on.

On SQLite a trigger lists the columns that must not change: a later migration that
adds a column to one of these tables (or rebuilds one in batch mode) must create its
triggers again.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# Frozen copy of zhicheng.db.audit (postgres_sql and sqlite_sql of every table but
# decisions, which 0001 and 0003 protect) at this revision.
TABLES = ('issuance_runs', 'application_revisions', 'chsi_answers', 'certificates', 'ballots', 'objections', 'voting_sessions', 'agenda_items', 'attendance', 'recusals')
GUARDED = ('certificates', 'ballots', 'objections', 'voting_sessions', 'agenda_items', 'attendance', 'recusals')
POSTGRES_SQL = (
    """
    CREATE TRIGGER issuance_runs_append_only
        BEFORE UPDATE OR DELETE ON issuance_runs
        FOR EACH ROW EXECUTE FUNCTION zhicheng_refuse_audit_change()
    """,
    """
    CREATE TRIGGER issuance_runs_no_truncate
        BEFORE TRUNCATE ON issuance_runs
        FOR EACH STATEMENT EXECUTE FUNCTION zhicheng_refuse_audit_change()
    """,
    """
    CREATE TRIGGER application_revisions_append_only
        BEFORE UPDATE OR DELETE ON application_revisions
        FOR EACH ROW EXECUTE FUNCTION zhicheng_refuse_audit_change()
    """,
    """
    CREATE TRIGGER application_revisions_no_truncate
        BEFORE TRUNCATE ON application_revisions
        FOR EACH STATEMENT EXECUTE FUNCTION zhicheng_refuse_audit_change()
    """,
    """
    CREATE TRIGGER chsi_answers_append_only
        BEFORE UPDATE OR DELETE ON chsi_answers
        FOR EACH ROW EXECUTE FUNCTION zhicheng_refuse_audit_change()
    """,
    """
    CREATE TRIGGER chsi_answers_no_truncate
        BEFORE TRUNCATE ON chsi_answers
        FOR EACH STATEMENT EXECUTE FUNCTION zhicheng_refuse_audit_change()
    """,
    """
    CREATE OR REPLACE FUNCTION zhicheng_guard_certificates() RETURNS trigger AS $$
    DECLARE
        changed text;
    BEGIN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'audit trail certificates: DELETE of row % is not allowed (append-only)', OLD.id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        SELECT string_agg(n.key, ', ' ORDER BY n.key) INTO changed FROM jsonb_each(to_jsonb(NEW)) AS n
            WHERE n.key <> ALL (ARRAY['status', 'revoked_at', 'revoke_reason', 'version']::text[]) AND n.value IS DISTINCT FROM to_jsonb(OLD) -> n.key;
        IF changed IS NOT NULL THEN
            RAISE EXCEPTION 'audit trail certificates: UPDATE of % in row % is not allowed (append-only; only status, revoked_at, revoke_reason, version may change)', changed, OLD.id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF NOT (OLD.status = 'valid' AND NEW.status = 'revoked' AND NEW.revoked_at IS NOT NULL AND NEW.revoke_reason IS NOT NULL AND NEW.version = OLD.version + 1) THEN
            RAISE EXCEPTION 'audit trail certificates: UPDATE of row % is not allowed: the only change is a revocation of a valid certificate (status revoked, revoked_at, revoke_reason, version + 1)', OLD.id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER certificates_append_only
        BEFORE UPDATE OR DELETE ON certificates
        FOR EACH ROW EXECUTE FUNCTION zhicheng_guard_certificates()
    """,
    """
    CREATE TRIGGER certificates_no_truncate
        BEFORE TRUNCATE ON certificates
        FOR EACH STATEMENT EXECUTE FUNCTION zhicheng_refuse_audit_change()
    """,
    """
    CREATE OR REPLACE FUNCTION zhicheng_guard_ballots() RETURNS trigger AS $$
    DECLARE
        changed text;
    BEGIN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'audit trail ballots: DELETE of row % is not allowed (append-only)', OLD.id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        SELECT string_agg(n.key, ', ' ORDER BY n.key) INTO changed FROM jsonb_each(to_jsonb(NEW)) AS n
            WHERE n.key <> ALL (ARRAY['voided_at', 'void_reason']::text[]) AND n.value IS DISTINCT FROM to_jsonb(OLD) -> n.key;
        IF changed IS NOT NULL THEN
            RAISE EXCEPTION 'audit trail ballots: UPDATE of % in row % is not allowed (append-only; only voided_at, void_reason may change)', changed, OLD.id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF NOT (OLD.voided_at IS NULL AND NEW.voided_at IS NOT NULL AND NEW.void_reason IS NOT NULL) THEN
            RAISE EXCEPTION 'audit trail ballots: UPDATE of row % is not allowed: the only change is voiding a ballot once (voided_at, void_reason)', OLD.id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER ballots_append_only
        BEFORE UPDATE OR DELETE ON ballots
        FOR EACH ROW EXECUTE FUNCTION zhicheng_guard_ballots()
    """,
    """
    CREATE TRIGGER ballots_no_truncate
        BEFORE TRUNCATE ON ballots
        FOR EACH STATEMENT EXECUTE FUNCTION zhicheng_refuse_audit_change()
    """,
    """
    CREATE OR REPLACE FUNCTION zhicheng_guard_objections() RETURNS trigger AS $$
    DECLARE
        changed text;
    BEGIN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'audit trail objections: DELETE of row % is not allowed (append-only)', OLD.id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        SELECT string_agg(n.key, ', ' ORDER BY n.key) INTO changed FROM jsonb_each(to_jsonb(NEW)) AS n
            WHERE n.key <> ALL (ARRAY['status', 'decided_at', 'decision_reason']::text[]) AND n.value IS DISTINCT FROM to_jsonb(OLD) -> n.key;
        IF changed IS NOT NULL THEN
            RAISE EXCEPTION 'audit trail objections: UPDATE of % in row % is not allowed (append-only; only status, decided_at, decision_reason may change)', changed, OLD.id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF NOT (OLD.status = 'open' AND NEW.status IN ('upheld', 'dismissed') AND NEW.decided_at IS NOT NULL) THEN
            RAISE EXCEPTION 'audit trail objections: UPDATE of row % is not allowed: the only change is deciding an open objection once (status upheld or dismissed, decided_at, decision_reason)', OLD.id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER objections_append_only
        BEFORE UPDATE OR DELETE ON objections
        FOR EACH ROW EXECUTE FUNCTION zhicheng_guard_objections()
    """,
    """
    CREATE TRIGGER objections_no_truncate
        BEFORE TRUNCATE ON objections
        FOR EACH STATEMENT EXECUTE FUNCTION zhicheng_refuse_audit_change()
    """,
    """
    CREATE OR REPLACE FUNCTION zhicheng_guard_voting_sessions() RETURNS trigger AS $$
    DECLARE
        changed text;
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM ballots WHERE ballots.session_id = OLD.id) THEN
            IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
            RETURN NEW;
        END IF;
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'audit trail voting_sessions: DELETE of row % is not allowed once its voting session has ballots (append-only)', OLD.id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        SELECT string_agg(n.key, ', ' ORDER BY n.key) INTO changed FROM jsonb_each(to_jsonb(NEW)) AS n
            WHERE n.key <> ALL (ARRAY['status']::text[]) AND n.value IS DISTINCT FROM to_jsonb(OLD) -> n.key;
        IF changed IS NOT NULL THEN
            RAISE EXCEPTION 'audit trail voting_sessions: UPDATE of % in row % is not allowed once its voting session has ballots (append-only; only status may change)', changed, OLD.id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER voting_sessions_append_only
        BEFORE UPDATE OR DELETE ON voting_sessions
        FOR EACH ROW EXECUTE FUNCTION zhicheng_guard_voting_sessions()
    """,
    """
    CREATE TRIGGER voting_sessions_no_truncate
        BEFORE TRUNCATE ON voting_sessions
        FOR EACH STATEMENT EXECUTE FUNCTION zhicheng_refuse_audit_change()
    """,
    """
    CREATE OR REPLACE FUNCTION zhicheng_guard_agenda_items() RETURNS trigger AS $$
    DECLARE
        changed text;
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM ballots WHERE ballots.session_id = OLD.session_id) THEN
            IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
            RETURN NEW;
        END IF;
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'audit trail agenda_items: DELETE of row % is not allowed once its voting session has ballots (append-only)', OLD.id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        SELECT string_agg(n.key, ', ' ORDER BY n.key) INTO changed FROM jsonb_each(to_jsonb(NEW)) AS n
            WHERE n.key <> ALL (ARRAY['outcome']::text[]) AND n.value IS DISTINCT FROM to_jsonb(OLD) -> n.key;
        IF changed IS NOT NULL THEN
            RAISE EXCEPTION 'audit trail agenda_items: UPDATE of % in row % is not allowed once its voting session has ballots (append-only; only outcome may change)', changed, OLD.id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF NOT (OLD.outcome IS NULL) THEN
            RAISE EXCEPTION 'audit trail agenda_items: UPDATE of row % is not allowed: the only change is recording its outcome once', OLD.id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER agenda_items_append_only
        BEFORE UPDATE OR DELETE ON agenda_items
        FOR EACH ROW EXECUTE FUNCTION zhicheng_guard_agenda_items()
    """,
    """
    CREATE TRIGGER agenda_items_no_truncate
        BEFORE TRUNCATE ON agenda_items
        FOR EACH STATEMENT EXECUTE FUNCTION zhicheng_refuse_audit_change()
    """,
    """
    CREATE OR REPLACE FUNCTION zhicheng_guard_attendance() RETURNS trigger AS $$
    DECLARE
        changed text;
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM ballots WHERE ballots.session_id = OLD.session_id) THEN
            IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
            RETURN NEW;
        END IF;
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'audit trail attendance: DELETE of row % is not allowed once its voting session has ballots (append-only)', OLD.id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        SELECT string_agg(n.key, ', ' ORDER BY n.key) INTO changed FROM jsonb_each(to_jsonb(NEW)) AS n
            WHERE n.key <> ALL (ARRAY['']::text[]) AND n.value IS DISTINCT FROM to_jsonb(OLD) -> n.key;
        IF changed IS NOT NULL THEN
            RAISE EXCEPTION 'audit trail attendance: UPDATE of % in row % is not allowed once its voting session has ballots (append-only)', changed, OLD.id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER attendance_append_only
        BEFORE UPDATE OR DELETE ON attendance
        FOR EACH ROW EXECUTE FUNCTION zhicheng_guard_attendance()
    """,
    """
    CREATE TRIGGER attendance_no_truncate
        BEFORE TRUNCATE ON attendance
        FOR EACH STATEMENT EXECUTE FUNCTION zhicheng_refuse_audit_change()
    """,
    """
    CREATE OR REPLACE FUNCTION zhicheng_guard_recusals() RETURNS trigger AS $$
    DECLARE
        changed text;
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM ballots WHERE ballots.session_id = OLD.session_id) THEN
            IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
            RETURN NEW;
        END IF;
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'audit trail recusals: DELETE of row % is not allowed once its voting session has ballots (append-only)', OLD.id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        SELECT string_agg(n.key, ', ' ORDER BY n.key) INTO changed FROM jsonb_each(to_jsonb(NEW)) AS n
            WHERE n.key <> ALL (ARRAY['']::text[]) AND n.value IS DISTINCT FROM to_jsonb(OLD) -> n.key;
        IF changed IS NOT NULL THEN
            RAISE EXCEPTION 'audit trail recusals: UPDATE of % in row % is not allowed once its voting session has ballots (append-only)', changed, OLD.id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER recusals_append_only
        BEFORE UPDATE OR DELETE ON recusals
        FOR EACH ROW EXECUTE FUNCTION zhicheng_guard_recusals()
    """,
    """
    CREATE TRIGGER recusals_no_truncate
        BEFORE TRUNCATE ON recusals
        FOR EACH STATEMENT EXECUTE FUNCTION zhicheng_refuse_audit_change()
    """,
)
SQLITE_SQL = (
    "CREATE TRIGGER IF NOT EXISTS issuance_runs_append_only_delete BEFORE DELETE ON issuance_runs BEGIN SELECT RAISE(ABORT, 'audit trail issuance_runs: DELETE is not allowed (append-only)'); END",
    "CREATE TRIGGER IF NOT EXISTS issuance_runs_append_only_update BEFORE UPDATE ON issuance_runs BEGIN SELECT RAISE(ABORT, 'audit trail issuance_runs: UPDATE is not allowed (append-only)'); END",
    "CREATE TRIGGER IF NOT EXISTS application_revisions_append_only_delete BEFORE DELETE ON application_revisions BEGIN SELECT RAISE(ABORT, 'audit trail application_revisions: DELETE is not allowed (append-only)'); END",
    "CREATE TRIGGER IF NOT EXISTS application_revisions_append_only_update BEFORE UPDATE ON application_revisions BEGIN SELECT RAISE(ABORT, 'audit trail application_revisions: UPDATE is not allowed (append-only)'); END",
    "CREATE TRIGGER IF NOT EXISTS chsi_answers_append_only_delete BEFORE DELETE ON chsi_answers BEGIN SELECT RAISE(ABORT, 'audit trail chsi_answers: DELETE is not allowed (append-only)'); END",
    "CREATE TRIGGER IF NOT EXISTS chsi_answers_append_only_update BEFORE UPDATE ON chsi_answers BEGIN SELECT RAISE(ABORT, 'audit trail chsi_answers: UPDATE is not allowed (append-only)'); END",
    "CREATE TRIGGER IF NOT EXISTS certificates_append_only_delete BEFORE DELETE ON certificates BEGIN SELECT RAISE(ABORT, 'audit trail certificates: DELETE is not allowed (append-only)'); END",
    "CREATE TRIGGER IF NOT EXISTS certificates_fixed_columns BEFORE UPDATE ON certificates WHEN (NEW.id IS NOT OLD.id OR NEW.certificate_no IS NOT OLD.certificate_no OR NEW.application_id IS NOT OLD.application_id OR NEW.holder_name IS NOT OLD.holder_name OR NEW.holder_id_number IS NOT OLD.holder_id_number OR NEW.holder_gender IS NOT OLD.holder_gender OR NEW.qualification_name IS NOT OLD.qualification_name OR NEW.series IS NOT OLD.series OR NEW.specialty IS NOT OLD.specialty OR NEW.level IS NOT OLD.level OR NEW.obtained_by IS NOT OLD.obtained_by OR NEW.committee_name IS NOT OLD.committee_name OR NEW.approved_on IS NOT OLD.approved_on OR NEW.issued_on IS NOT OLD.issued_on OR NEW.issuer IS NOT OLD.issuer OR NEW.issuer_region_code IS NOT OLD.issuer_region_code OR NEW.filed_with_province IS NOT OLD.filed_with_province OR NEW.replaces IS NOT OLD.replaces OR NEW.verification_code IS NOT OLD.verification_code OR NEW.document_path IS NOT OLD.document_path OR NEW.document_sha256 IS NOT OLD.document_sha256 OR NEW.key_id IS NOT OLD.key_id OR NEW.issuance_run_id IS NOT OLD.issuance_run_id OR NEW.merkle_proof IS NOT OLD.merkle_proof) BEGIN SELECT RAISE(ABORT, 'audit trail certificates: UPDATE of a fixed column is not allowed (append-only; only status, revoked_at, revoke_reason, version may change)'); END",
    "CREATE TRIGGER IF NOT EXISTS certificates_one_amendment BEFORE UPDATE ON certificates WHEN NOT (OLD.status = 'valid' AND NEW.status = 'revoked' AND NEW.revoked_at IS NOT NULL AND NEW.revoke_reason IS NOT NULL AND NEW.version = OLD.version + 1) BEGIN SELECT RAISE(ABORT, 'audit trail certificates: UPDATE is not allowed: the only change is a revocation of a valid certificate (status revoked, revoked_at, revoke_reason, version + 1)'); END",
    "CREATE TRIGGER IF NOT EXISTS ballots_append_only_delete BEFORE DELETE ON ballots BEGIN SELECT RAISE(ABORT, 'audit trail ballots: DELETE is not allowed (append-only)'); END",
    "CREATE TRIGGER IF NOT EXISTS ballots_fixed_columns BEFORE UPDATE ON ballots WHEN (NEW.id IS NOT OLD.id OR NEW.session_id IS NOT OLD.session_id OR NEW.application_id IS NOT OLD.application_id OR NEW.member_id IS NOT OLD.member_id OR NEW.vote IS NOT OLD.vote OR NEW.cast_by IS NOT OLD.cast_by OR NEW.source_file IS NOT OLD.source_file OR NEW.source_row IS NOT OLD.source_row) BEGIN SELECT RAISE(ABORT, 'audit trail ballots: UPDATE of a fixed column is not allowed (append-only; only voided_at, void_reason may change)'); END",
    "CREATE TRIGGER IF NOT EXISTS ballots_one_amendment BEFORE UPDATE ON ballots WHEN NOT (OLD.voided_at IS NULL AND NEW.voided_at IS NOT NULL AND NEW.void_reason IS NOT NULL) BEGIN SELECT RAISE(ABORT, 'audit trail ballots: UPDATE is not allowed: the only change is voiding a ballot once (voided_at, void_reason)'); END",
    "CREATE TRIGGER IF NOT EXISTS objections_append_only_delete BEFORE DELETE ON objections BEGIN SELECT RAISE(ABORT, 'audit trail objections: DELETE is not allowed (append-only)'); END",
    "CREATE TRIGGER IF NOT EXISTS objections_fixed_columns BEFORE UPDATE ON objections WHEN (NEW.id IS NOT OLD.id OR NEW.window_id IS NOT OLD.window_id OR NEW.application_id IS NOT OLD.application_id OR NEW.lodged_at IS NOT OLD.lodged_at OR NEW.content IS NOT OLD.content OR NEW.source_file IS NOT OLD.source_file OR NEW.source_row IS NOT OLD.source_row) BEGIN SELECT RAISE(ABORT, 'audit trail objections: UPDATE of a fixed column is not allowed (append-only; only status, decided_at, decision_reason may change)'); END",
    "CREATE TRIGGER IF NOT EXISTS objections_one_amendment BEFORE UPDATE ON objections WHEN NOT (OLD.status = 'open' AND NEW.status IN ('upheld', 'dismissed') AND NEW.decided_at IS NOT NULL) BEGIN SELECT RAISE(ABORT, 'audit trail objections: UPDATE is not allowed: the only change is deciding an open objection once (status upheld or dismissed, decided_at, decision_reason)'); END",
    "CREATE TRIGGER IF NOT EXISTS voting_sessions_append_only_delete BEFORE DELETE ON voting_sessions WHEN EXISTS (SELECT 1 FROM ballots WHERE ballots.session_id = OLD.id) BEGIN SELECT RAISE(ABORT, 'audit trail voting_sessions: DELETE is not allowed once its voting session has ballots (append-only)'); END",
    "CREATE TRIGGER IF NOT EXISTS voting_sessions_fixed_columns BEFORE UPDATE ON voting_sessions WHEN EXISTS (SELECT 1 FROM ballots WHERE ballots.session_id = OLD.id) AND (NEW.id IS NOT OLD.id OR NEW.code IS NOT OLD.code OR NEW.committee_id IS NOT OLD.committee_id OR NEW.held_on IS NOT OLD.held_on OR NEW.members_total IS NOT OLD.members_total) BEGIN SELECT RAISE(ABORT, 'audit trail voting_sessions: UPDATE of a fixed column is not allowed once its voting session has ballots (append-only; only status may change)'); END",
    "CREATE TRIGGER IF NOT EXISTS agenda_items_append_only_delete BEFORE DELETE ON agenda_items WHEN EXISTS (SELECT 1 FROM ballots WHERE ballots.session_id = OLD.session_id) BEGIN SELECT RAISE(ABORT, 'audit trail agenda_items: DELETE is not allowed once its voting session has ballots (append-only)'); END",
    "CREATE TRIGGER IF NOT EXISTS agenda_items_fixed_columns BEFORE UPDATE ON agenda_items WHEN EXISTS (SELECT 1 FROM ballots WHERE ballots.session_id = OLD.session_id) AND (NEW.id IS NOT OLD.id OR NEW.session_id IS NOT OLD.session_id OR NEW.application_id IS NOT OLD.application_id) BEGIN SELECT RAISE(ABORT, 'audit trail agenda_items: UPDATE of a fixed column is not allowed once its voting session has ballots (append-only; only outcome may change)'); END",
    "CREATE TRIGGER IF NOT EXISTS agenda_items_one_amendment BEFORE UPDATE ON agenda_items WHEN EXISTS (SELECT 1 FROM ballots WHERE ballots.session_id = OLD.session_id) AND NOT (OLD.outcome IS NULL) BEGIN SELECT RAISE(ABORT, 'audit trail agenda_items: UPDATE is not allowed: the only change is recording its outcome once'); END",
    "CREATE TRIGGER IF NOT EXISTS attendance_append_only_delete BEFORE DELETE ON attendance WHEN EXISTS (SELECT 1 FROM ballots WHERE ballots.session_id = OLD.session_id) BEGIN SELECT RAISE(ABORT, 'audit trail attendance: DELETE is not allowed once its voting session has ballots (append-only)'); END",
    "CREATE TRIGGER IF NOT EXISTS attendance_append_only_update BEFORE UPDATE ON attendance WHEN EXISTS (SELECT 1 FROM ballots WHERE ballots.session_id = OLD.session_id) BEGIN SELECT RAISE(ABORT, 'audit trail attendance: UPDATE is not allowed once its voting session has ballots (append-only)'); END",
    "CREATE TRIGGER IF NOT EXISTS recusals_append_only_delete BEFORE DELETE ON recusals WHEN EXISTS (SELECT 1 FROM ballots WHERE ballots.session_id = OLD.session_id) BEGIN SELECT RAISE(ABORT, 'audit trail recusals: DELETE is not allowed once its voting session has ballots (append-only)'); END",
    "CREATE TRIGGER IF NOT EXISTS recusals_append_only_update BEFORE UPDATE ON recusals WHEN EXISTS (SELECT 1 FROM ballots WHERE ballots.session_id = OLD.session_id) BEGIN SELECT RAISE(ABORT, 'audit trail recusals: UPDATE is not allowed once its voting session has ballots (append-only)'); END",
)
SQLITE_TRIGGERS = ('issuance_runs_append_only_delete', 'issuance_runs_append_only_update', 'application_revisions_append_only_delete', 'application_revisions_append_only_update', 'chsi_answers_append_only_delete', 'chsi_answers_append_only_update', 'certificates_append_only_delete', 'certificates_fixed_columns', 'certificates_one_amendment', 'ballots_append_only_delete', 'ballots_fixed_columns', 'ballots_one_amendment', 'objections_append_only_delete', 'objections_fixed_columns', 'objections_one_amendment', 'voting_sessions_append_only_delete', 'voting_sessions_fixed_columns', 'agenda_items_append_only_delete', 'agenda_items_fixed_columns', 'agenda_items_one_amendment', 'attendance_append_only_delete', 'attendance_append_only_update', 'recusals_append_only_delete', 'recusals_append_only_update')


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for sql in POSTGRES_SQL if dialect == "postgresql" else SQLITE_SQL if dialect == "sqlite" else ():
        op.execute(sql)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        for table in GUARDED:
            op.execute(f"DROP FUNCTION IF EXISTS zhicheng_guard_{table}()")
    elif dialect == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
