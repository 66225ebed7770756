"""Errors of the database layer that the CLI reports as one line (kept free of alembic
and SQLAlchemy imports, so every verb can name them cheaply)."""
from zhicheng.errors import UserError


class MigrationRefused(UserError, RuntimeError):
    """A migration stopped before changing anything, saying why and what a person must do."""
