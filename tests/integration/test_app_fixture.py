from sqlalchemy import func, select

from zhicheng.bootstrap import build_app
from zhicheng.db.models import Committee


def test_flows_see_the_same_database_as_the_test(app):
    # A flow builds its own App from the environment; it must land in the test's database.
    other = build_app()
    with other.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Committee)) == len(app.config.committees)
