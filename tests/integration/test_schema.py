"""The schema on both engines: migrations, drift, constraints and the audit trail."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert, inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from zhicheng.db import migrate
from zhicheng.db.errors import MigrationRefused
from zhicheng.db.models import Applicant, Application
from zhicheng.issuance.models import Certificate
from zhicheng.review.models import Decision
from zhicheng.schema import Base

NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.timezone.utc)


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_migrations_build_the_whole_schema_and_find_no_drift(empty_engine):
    migrate.upgrade(_url(empty_engine), engine=empty_engine)
    tables = set(inspect(empty_engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    migrate.check(_url(empty_engine), engine=empty_engine)  # raises on drift


def test_upgrade_twice_is_harmless(empty_engine):
    migrate.upgrade(_url(empty_engine), engine=empty_engine)
    migrate.upgrade(_url(empty_engine), engine=empty_engine)
    with empty_engine.connect() as conn:
        assert conn.execute(text("select version_num from alembic_version")).scalar() \
            == migrate.current_heads(_url(empty_engine))[0]


def _application(session: Session, applicant: Applicant, sid: str, *, slot: bool) -> Application:
    app = Application(submission_id=sid, current_revision=1, applicant_id=applicant.id,
                      batch_year=2026, track="评审", holds_year_slot=slot)
    session.add(app)
    return app


def test_one_active_application_per_applicant_and_batch_year(engine):
    with Session(engine) as s:
        person = Applicant(id_number="X" * 18, name="张三")
        s.add(person)
        s.flush()
        _application(s, person, "S1", slot=True)
        _application(s, person, "S2", slot=False)  # a finished one does not hold the slot
        s.flush()
        _application(s, person, "S3", slot=True)
        with pytest.raises(IntegrityError):
            s.flush()


def _certificate(no: str) -> Certificate:
    return Certificate(certificate_no=no, holder_name="李四", holder_id_number="Y" * 18,
                       qualification_name="工程师", series="工程", specialty="电气工程",
                       level="中级", obtained_by="评审", approved_on=dt.date(2026, 11, 1),
                       issued_on=dt.date(2026, 11, 20), issuer="泰州市人力资源和社会保障局",
                       issuer_region_code="321200")


def test_certificate_numbers_are_unique(engine):
    with Session(engine) as s:
        s.add(_certificate("3212002026300001X"))
        s.flush()
        s.add(_certificate("3212002026300001X"))
        with pytest.raises(IntegrityError):
            s.flush()


def test_foreign_keys_are_enforced(engine):
    with Session(engine) as s:
        s.add(Application(submission_id="S9", current_revision=1, committee_id="NO-SUCH"))
        with pytest.raises(IntegrityError):
            s.flush()


def _decision(application_id: int) -> Decision:
    return Decision(application_id=application_id, revision=1, stage_index=1, stage="单位审核、公示",
                    action="approve", actor="王五", office="某单位", decided_at=NOW, recorded_at=NOW)


def test_a_stage_is_decided_once_per_revision_by_the_database_itself(engine):
    with Session(engine) as s:
        app = Application(submission_id="S1", current_revision=1)
        s.add(app)
        s.flush()
        s.add(_decision(app.id))
        s.flush()
        again = _decision(app.id)
        again.actor = "另一人"
        s.add(again)
        with pytest.raises(IntegrityError, match="stage_index"):
            s.flush()
        s.rollback()
    with Session(engine) as s:  # a resubmission (revision 2) decides the returning stage afresh
        app = Application(submission_id="S2", current_revision=2)
        s.add(app)
        s.flush()
        first, second = _decision(app.id), _decision(app.id)
        first.action, first.reason, second.revision = "return", "请补充材料", 2
        s.add_all([first, second])
        s.flush()
        s.commit()


def test_upgrade_names_stages_decided_twice_and_changes_nothing(empty_engine):
    url = _url(empty_engine)
    migrate.upgrade(url, engine=empty_engine, revision="0001")
    with Session(empty_engine) as s:
        # the table as 0001 made it: only its columns (the model has more by now)
        app_id = s.execute(insert(Application.__table__).values(submission_id="S1", current_revision=1)
                           .returning(Application.__table__.c.id)).scalar_one()
        s.add_all([_decision(app_id), _decision(app_id)])
        s.commit()
    with pytest.raises(MigrationRefused, match=f"application {app_id} revision 1 stage_index 1: 2 decisions"):
        migrate.upgrade(url, engine=empty_engine)
    with empty_engine.connect() as conn:
        assert conn.execute(text("select version_num from alembic_version")).scalar() == "0001"
        assert conn.execute(text("select count(*) from decisions")).scalar() == 2


@pytest.mark.parametrize("statement", [
    "UPDATE decisions SET reason = 'changed'",
    "DELETE FROM decisions",
    "TRUNCATE decisions",
])
def test_postgres_refuses_to_change_the_audit_trail(pg_schema, statement):
    from zhicheng.db.engine import make_engine
    url, schema = pg_schema
    engine = make_engine(url, schema=schema)
    migrate.upgrade(url, engine=engine)  # the trigger comes with the migration
    _one_decision(engine)
    with engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
        conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("select count(*), max(reason) from decisions")).one() == (1, None)
    engine.dispose()


def test_audit_trigger_also_comes_with_create_all(pg_schema):
    from zhicheng.db.engine import make_engine
    url, schema = pg_schema
    engine = make_engine(url, schema=schema)
    Base.metadata.create_all(engine)
    _one_decision(engine)
    with Session(engine) as s, pytest.raises(DBAPIError, match="append-only"):
        s.execute(text("DELETE FROM decisions"))
    engine.dispose()


@pytest.mark.parametrize("build", ["migrations", "create_all"])
@pytest.mark.parametrize("statement", ["UPDATE decisions SET reason = 'changed'", "DELETE FROM decisions"])
def test_sqlite_refuses_to_change_the_audit_trail_too(tmp_path, build, statement):
    from zhicheng.db.engine import make_engine
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    engine = make_engine(url)
    if build == "migrations":
        migrate.upgrade(url, engine=engine)
    else:
        Base.metadata.create_all(engine)
    _one_decision(engine)
    with engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
        conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("select count(*), max(reason) from decisions")).one() == (1, None)
    engine.dispose()


def _one_decision(engine) -> None:
    with Session(engine) as s:
        app = Application(submission_id="S1", current_revision=1)
        s.add(app)
        s.flush()
        s.add(_decision(app.id))
        s.commit()
