from __future__ import annotations

from typing import Literal

from alembic import context

from zhicheng.db.engine import make_engine
from zhicheng.db.types import UtcDateTime
from zhicheng.schema import Base

config = context.config
target_metadata = Base.metadata


def render_item(type_: str, obj: object, autogen_context) -> str | Literal[False]:
    """Migrations spell UtcDateTime as the column it is, DateTime(timezone=True): the
    UTC conversion is Python-side, and a revision must not import the models' code."""
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if not url:   # alembic.ini and zhicheng.db.migrate both set it
        raise RuntimeError("the alembic config names no database (sqlalchemy.url)")
    return url


def run_migrations_online() -> None:
    engine = config.attributes.get("engine") or make_engine(_url())
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            render_item=render_item,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_item=render_item)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
