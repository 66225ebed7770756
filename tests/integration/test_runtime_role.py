"""PostgreSQL with the roles of docs/audit-trail.md: the owner migrates, the application
runs as a runtime role of its own (a unique name, dropped afterwards).

The runtime role can neither rewrite the audit trail nor switch its triggers off; and the
application's ordinary work still runs as that role: the scenarios imported at the end
(issuance and revocation, the issue flow with a crash, delivery to the province, votes
with recusals and a void, objections, review decisions, intake from the hall, 学信
answers) run again here on an engine connected as the runtime role (and flows build
their own from ZHICHENG_DATABASE_URL, that role's URL), every one as in its own module.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from support import PG_URL
from test_audit_trail import one_of_each
from zhicheng.bootstrap import build_app
from zhicheng.db import audit
from zhicheng.db.engine import unit_of_work
from zhicheng.db.roles import RolesRefused
from zhicheng.settings import Settings
from zhicheng.workspace import upgrade_database

pytestmark = pytest.mark.parametrize("empty_engine", ["postgresql-runtime"], indirect=True)


def _as_runtime_role(app, statement: str) -> str:
    with app.engine.connect() as conn, pytest.raises(DBAPIError) as err:
        conn.execute(text(statement))
        conn.commit()
    return str(err.value.orig).splitlines()[0]


ATTEMPTS = {  # what an application that wanted to rewrite the trail would try
    "update": "UPDATE {t} SET id = id + 1000",
    "delete": "DELETE FROM {t}",
    "truncate": "TRUNCATE {t}",
    "disable trigger": "ALTER TABLE {t} DISABLE TRIGGER USER",
    "drop trigger": "DROP TRIGGER {t}_append_only ON {t}",
    "alter": "ALTER TABLE {t} ADD COLUMN note text",
    "change owner": "ALTER TABLE {t} OWNER TO CURRENT_USER",
}


@pytest.mark.parametrize("attempt", ATTEMPTS)
def test_the_runtime_role_cannot_rewrite_or_unprotect_any_audit_table(app, attempt):
    with unit_of_work(app.sessions) as s:   # written as the runtime role: inserting is its job
        one_of_each(s)
    for table in audit.AUDIT_TABLES:
        message = _as_runtime_role(app, ATTEMPTS[attempt].format(t=table))
        assert re.search(rf"(permission denied for table|must be owner of (table|relation)|audit trail) "
                         rf"{table}\b", message), (table, message)
    with app.engine.connect() as conn:
        for table in audit.AUDIT_TABLES:
            assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 1, table
            assert conn.execute(text(
                "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE c.relname = :t AND c.relnamespace = current_schema()::regnamespace "
                "AND t.tgenabled = 'O' AND NOT t.tgisinternal"), {"t": table}).scalar() == 2, table


def test_upgrade_reports_the_protection_and_grants_again(app):
    result = upgrade_database(_owner_app(app))   # a second upgrade: grants stay right
    assert result["runtime_role"] == app.engine.url.username
    assert "can neither alter the tables nor disable them" in result["audit_trail"]
    assert _as_runtime_role(app, "DELETE FROM decisions") == "permission denied for table decisions"


def _owner_app(app, **settings):
    url = app.engine.url
    base = dict(home=app.settings.home, database_url=url.render_as_string(hide_password=False),
                database_owner_url=PG_URL, database_schema=app.settings.database_schema)
    return build_app(settings=Settings(**{**base, **settings}), engine=app.engine)


def _grant_and_expect_refusal(app, sql: str, expected: str) -> None:
    role = app.engine.url.username
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"SET search_path = {app.settings.database_schema}"))
        conn.execute(text(sql.format(role=role)))
    admin.dispose()
    with pytest.raises(RolesRefused, match=expected):
        upgrade_database(_owner_app(app))


def test_a_runtime_role_that_could_act_as_owner_is_refused(app):
    _grant_and_expect_refusal(app, 'ALTER ROLE "{role}" CREATEROLE', "has CREATEROLE")


def test_a_runtime_role_that_owns_a_table_is_refused_naming_it(app):
    _grant_and_expect_refusal(app, 'ALTER TABLE outbox OWNER TO "{role}"',
                              r"owns outbox, outbox_id_seq \(REASSIGN OWNED BY")


def test_a_privilege_granted_to_public_is_found(app):
    _grant_and_expect_refusal(app, "GRANT DELETE ON certificates TO PUBLIC", "certificates: DELETE")


def test_a_runtime_role_that_does_not_exist_is_refused(app):
    with pytest.raises(RolesRefused, match="runtime role 'nobody_here' does not exist"):
        upgrade_database(_owner_app(app), runtime_role="nobody_here")


# -- the application's own work, as the runtime role ---------------------------------
# Imported, so pytest runs them here again on the engine this module's pytestmark gives.
from test_certificate_verify import issued, test_revoked_and_superseded  # noqa: E402,F401
from test_delivery import test_newer_version_wins_and_no_older_one_follows  # noqa: E402,F401
from test_education_sync import test_answers_are_kept_and_reused_within_their_age  # noqa: E402,F401
from test_intake import client, generated, submissions, year_dir  # noqa: E402,F401
from test_issue_flow import small_chunks, test_flow_issues_everything_once_even_after_a_crash  # noqa: E402,F401
from test_issuance import (ctx, test_a_chunk_issues_numbered_signed_recorded_certificates,  # noqa: E402,F401
                           test_history_registration_has_no_document, test_reissue_revokes_the_old_and_sends_both)
from test_publicity import test_close_due_moves_holds_and_removes, waiting  # noqa: E402,F401
from test_review_import import (test_good_file_of_several_stages_is_applied_and_audited,  # noqa: E402,F401
                                three)
from test_votes import (test_apply_moves_applications_and_void_resolves,  # noqa: E402,F401
                        test_session_recusals_recorded, voting)


@pytest.mark.usefixtures("year_dir")  # as test_intake's module mark: the hall serves that year
def test_intake_stores_revisions_and_resubmissions(app, hall, client, submissions):
    import test_intake
    test_intake.test_a_rerun_takes_in_nothing_twice_and_a_resubmission_supersedes(app, hall, client, submissions)
