"""The audit trail on both engines: every append-only table refuses what its rule
forbids (zhicheng.db.audit), allows the one amendment it names, and names what it refuses;
and the roles of docs/audit-trail.md, created as the document says.

The runtime role's limits, and the application's own work as that role, are in
test_runtime_role.py.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from support import PG_URL, require_postgres
from zhicheng.bootstrap import build_app
from zhicheng.db import audit, migrate
from zhicheng.db.engine import make_engine, unit_of_work
from zhicheng.db.models import (Applicant, Application, ApplicationRevision, CommitteeMember,
                                StaffAccount, StaffLookup)
from zhicheng.db.roles import RolesRefused
from zhicheng.education.models import ChsiAnswer
from zhicheng.issuance.models import Certificate, IssuanceRun
from zhicheng.publicity.models import Objection, PublicityWindow
from zhicheng.review.models import Decision
from zhicheng.schema import Base
from zhicheng.settings import Settings
from zhicheng.votes.models import AgendaItem, Attendance, Ballot, Recusal, VotingSession
from zhicheng.workspace import upgrade_database

REPO = Path(__file__).resolve().parents[2]

NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.timezone.utc)
COMMITTEE = "TZ-GC-ZJ"


def one_of_each(s: Session, *, with_ballot: bool = True) -> dict[str, int]:
    """One row in every audit table (a voting session with a ballot, unless told not to)."""
    person = Applicant(id_number="320102198001010011", name="张三")
    s.add(person)
    s.flush()
    app = Application(submission_id="S1", current_revision=1, applicant_id=person.id, status="in_review")
    member = CommitteeMember(committee_id=COMMITTEE, member_code="M01", name="专家01")
    run = IssuanceRun(started_at=NOW, finished_at=NOW, merkle_root="ab" * 32, certificates=1)
    vs = VotingSession(code="V1", committee_id=COMMITTEE, held_on=dt.date(2026, 6, 1), members_total=1)
    window = PublicityWindow(kind="评前", published_on=dt.date(2026, 6, 1), opens_on=dt.date(2026, 6, 1),
                             closes_on=dt.date(2026, 6, 5), ends_at=NOW + dt.timedelta(days=5))
    staff = StaffAccount(username="taizhou01", password_hash="x", office="泰州市职称办", region_code="321200",
                         created_at=NOW, password_changed_at=NOW)
    s.add_all([app, member, run, vs, window, staff])
    s.flush()
    rows = {
        "decisions": Decision(application_id=app.id, revision=1, stage_index=1, stage="单位审核", action="approve",
                              actor="王五", office="某单位", decided_at=NOW, recorded_at=NOW),
        "issuance_runs": run,
        "application_revisions": ApplicationRevision(application_id=app.id, revision=1, payload={"a": 1},
                                                     payload_sha256="0" * 64, valid=True, received_at=NOW),
        "chsi_answers": ChsiAnswer(kind="records", lookup_key="x|张三", status=200, body={}, fetched_at=NOW),
        "certificates": Certificate(certificate_no="321200202630000011", holder_name="张三",
                                    holder_id_number=person.id_number, qualification_name="工程师", series="工程",
                                    specialty="电气工程", level="中级", obtained_by="评审",
                                    approved_on=dt.date(2026, 5, 1), issued_on=dt.date(2026, 6, 1),
                                    issuer="泰州市人力资源和社会保障局", issuer_region_code="321200",
                                    issuance_run_id=run.id, application_id=app.id),
        "objections": Objection(window_id=window.id, application_id=app.id, lodged_at=NOW, content="学历造假"),
        "voting_sessions": vs,
        "agenda_items": AgendaItem(session_id=vs.id, application_id=app.id),
        "attendance": Attendance(session_id=vs.id, member_id=member.id, present=True),
        "recusals": Recusal(session_id=vs.id, member_id=member.id, application_id=app.id, reason="同一单位"),
        "staff_lookups": StaffLookup(account_id=staff.id, username=staff.username, office=staff.office,
                                     action="search", criteria={"name": "张三"}, results=1,
                                     subjects=["321200202630000011"], client="127.0.0.1", at=NOW),
    }
    if with_ballot:
        rows["ballots"] = Ballot(session_id=vs.id, application_id=app.id, member_id=member.id, vote="同意")
    s.add_all(rows.values())
    s.flush()
    return {table: row.id for table, row in rows.items()}


# What each rule refuses, as plain SQL: any role's own statement, not only the ORM's.
REFUSED = [
    ("decisions", "UPDATE decisions SET reason = 'changed'"),
    ("issuance_runs", "UPDATE issuance_runs SET merkle_root = 'changed'"),
    ("application_revisions", "UPDATE application_revisions SET valid = false"),
    ("chsi_answers", "UPDATE chsi_answers SET status = 404"),
    ("certificates", "UPDATE certificates SET holder_name = '李四'"),
    ("certificates", "UPDATE certificates SET status = 'revoked'"),  # a revocation without its record
    ("certificates", "UPDATE certificates SET status = 'revoked', revoked_at = CURRENT_TIMESTAMP, "
                     "revoke_reason = 'x', version = version + 1, level = '正高级'"),  # smuggled in one
    ("ballots", "UPDATE ballots SET vote = '不同意'"),
    ("ballots", "UPDATE ballots SET voided_at = CURRENT_TIMESTAMP"),  # a void without a reason
    ("objections", "UPDATE objections SET content = '撤回'"),
    ("objections", "UPDATE objections SET status = 'dismissed'"),  # decided without a time
    ("voting_sessions", "UPDATE voting_sessions SET members_total = 9"),
    ("agenda_items", "UPDATE agenda_items SET application_id = application_id + 1"),
    ("attendance", "UPDATE attendance SET present = false"),
    ("recusals", "UPDATE recusals SET reason = '无'"),
    ("staff_lookups", "UPDATE staff_lookups SET results = 0"),
] + [(table, f"DELETE FROM {table}") for table in audit.AUDIT_TABLES]


def _refused(engine, statement: str) -> str:
    with engine.connect() as conn, pytest.raises(DBAPIError) as err:
        conn.execute(text(statement))
        conn.commit()
    return str(err.value.orig)


def _snapshot(engine) -> dict[str, list]:
    with engine.connect() as conn:
        return {t: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY id"))]
                for t in audit.AUDIT_TABLES}


@pytest.mark.parametrize("table,statement", REFUSED)
def test_the_database_refuses_to_rewrite_the_audit_trail(app, table, statement):
    with unit_of_work(app.sessions) as s:
        one_of_each(s)
    before = _snapshot(app.engine)
    message = _refused(app.engine, statement)
    assert f"audit trail {table}:" in message and statement.split()[0] in message, message
    assert _snapshot(app.engine) == before


def _execute(engine, statement: str, **params) -> None:
    with engine.begin() as conn:
        conn.execute(text(statement), params)


def test_each_amendment_is_allowed_once(app):
    with unit_of_work(app.sessions) as s:
        ids = one_of_each(s)
    amendments = [  # (the one change the rule allows, the same change again)
        ("certificates", "UPDATE certificates SET status = 'revoked', revoked_at = :now, "
                         "revoke_reason = '弄虚作假', version = version + 1"),
        ("ballots", "UPDATE ballots SET voided_at = :now, void_reason = '重复录入'"),
        ("objections", "UPDATE objections SET status = 'upheld', decided_at = :now, decision_reason = '属实'"),
        ("agenda_items", "UPDATE agenda_items SET outcome = 'pass'"),
    ]
    for table, statement in amendments:
        _execute(app.engine, statement, now=NOW)
        with pytest.raises(DBAPIError, match=f"audit trail {table}:"):
            _execute(app.engine, statement, now=NOW + dt.timedelta(hours=1))
    _execute(app.engine, "UPDATE voting_sessions SET status = 'tallied'")  # a session's status moves on
    with app.sessions() as s:
        cert = s.get(Certificate, ids["certificates"])
        assert (cert.status, cert.version, cert.revoke_reason) == ("revoked", 2, "弄虚作假")
        assert s.get(Objection, ids["objections"]).status == "upheld"
        assert s.get(Ballot, ids["ballots"]).void_reason == "重复录入"
        assert s.get(AgendaItem, ids["agenda_items"]).outcome == "pass"


def test_a_voting_record_is_a_draft_until_its_first_ballot(app):
    """A session workbook imported again replaces agenda, attendance and recusals (the
    votes service does), until the first ballot is stored; from then on it is fixed."""
    with unit_of_work(app.sessions) as s:
        ids = one_of_each(s, with_ballot=False)
    for table in ("recusals", "attendance", "agenda_items"):
        _execute(app.engine, f"DELETE FROM {table}")
    _execute(app.engine, "UPDATE voting_sessions SET members_total = 3")
    with unit_of_work(app.sessions) as s:
        member, application = s.scalar(select(CommitteeMember.id)), s.scalar(select(Application.id))
        s.add(Recusal(session_id=ids["voting_sessions"], member_id=member, application_id=application,
                      reason="亲属关系"))
        s.add(Ballot(session_id=ids["voting_sessions"], application_id=application, member_id=member,
                     vote="弃权"))
    message = _refused(app.engine, "DELETE FROM recusals")
    assert "audit trail recusals: DELETE" in message and "has ballots" in message


@pytest.mark.parametrize("build", ["migrations", "create_all"])
def test_migrations_and_create_all_install_the_same_triggers(empty_engine, build):
    url = empty_engine.url.render_as_string(hide_password=False)
    if build == "migrations":
        migrate.upgrade(url, engine=empty_engine)
    else:
        Base.metadata.create_all(empty_engine)
    with empty_engine.connect() as conn:
        if empty_engine.dialect.name == "sqlite":
            found = {(t, n) for n, t in conn.execute(text(
                "SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'"))}
            expected = {(s.split()[9], s.split()[5]) for s in audit.sqlite_sql(audit.columns_of(Base.metadata))}
        else:
            found = {tuple(r) for r in conn.execute(text(
                "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND NOT t.tgisinternal"))}
            expected = {(t, f"{t}_{kind}") for t in audit.AUDIT_TABLES for kind in ("append_only", "no_truncate")}
    assert found == expected


def test_postgres_refuses_truncate_of_every_audit_table(pg_schema):
    url, schema = pg_schema
    engine = make_engine(url, schema=schema)
    migrate.upgrade(url, engine=engine)
    for table in audit.AUDIT_TABLES:
        assert f"audit trail {table}: TRUNCATE" in _refused(engine, f"TRUNCATE {table} CASCADE")
    engine.dispose()


def test_a_runtime_role_on_sqlite_is_refused(tmp_path):
    settings = Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'z.db'}")
    with pytest.raises(RolesRefused, match="SQLite has no roles"):
        upgrade_database(build_app(settings=settings), runtime_role="zhicheng_app")


def _documented_roles_sql() -> str:
    doc = (REPO / "docs" / "audit-trail.md").read_text(encoding="utf-8")
    block = re.search(r"Create the roles.*?```sql\n(.*?)```", doc, re.S)
    assert block, "docs/audit-trail.md lost its SQL for the roles"
    return block.group(1)


@pytest.mark.skipif(not __import__("shutil").which("psql"), reason="psql is not installed")
def test_the_documented_roles_and_db_upgrade_protect_the_trail(tmp_path):
    """Run docs/audit-trail.md as an operator would: its SQL with psql, then `zhicheng db
    upgrade` with the owner URL, then the application's role tries to disable a trigger."""
    require_postgres()
    suffix = uuid.uuid4().hex[:10]
    names = {"zhicheng_owner": f"zo_{suffix}", "zhicheng_app": f"za_{suffix}", "zhicheng": f"zdb_{suffix}"}
    sql = re.sub(r"\b(zhicheng_owner|zhicheng_app|zhicheng)\b", lambda m: names[m[1]], _documented_roles_sql())
    admin_url = make_url(PG_URL)
    psql = ["psql", "-v", "ON_ERROR_STOP=1", "-h", admin_url.host, "-p", str(admin_url.port or 5432),
            "-U", admin_url.username, "-d", admin_url.database]
    try:
        done = subprocess.run(psql, input=sql, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        db = make_url(PG_URL).set(database=names["zhicheng"])
        env = {k: v for k, v in os.environ.items() if not k.startswith("ZHICHENG_")}
        env.update(ZHICHENG_HOME=str(tmp_path),
                   ZHICHENG_DATABASE_OWNER_URL=db.set(username=names["zhicheng_owner"]).render_as_string(False),
                   ZHICHENG_DATABASE_URL=db.set(username=names["zhicheng_app"]).render_as_string(False))
        up = subprocess.run([str(Path(sys.executable).parent / "zhicheng"), "db", "upgrade"],
                            env=env, capture_output=True, text=True, cwd=tmp_path)
        assert up.returncode == 0, up.stderr
        assert f"the runtime role {names['zhicheng_app']} can neither alter" in up.stdout
        app_engine = make_engine(env["ZHICHENG_DATABASE_URL"])
        with app_engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM committees")).scalar() > 0
            with pytest.raises(DBAPIError, match="must be owner of table decisions"):
                conn.execute(text("ALTER TABLE decisions DISABLE TRIGGER USER"))
        app_engine.dispose()
    finally:
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{names["zhicheng"]}" WITH (FORCE)'))
            for role in (names["zhicheng_app"], names["zhicheng_owner"]):
                conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()
