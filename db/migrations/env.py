"""Alembic environment, configured programmatically by `db.core.migrate` (there is no alembic.ini).

`db.core.migrate` passes an open connection in `config.attributes["connection"]`; offline mode (SQL scripts)
uses the `sqlalchemy.url` main option.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from db import models  # noqa: F401  (registers the tables on SQLModel.metadata)
from db.core.engine import make_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    """Emit SQL to stdout instead of running it."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on the connection `db.core.migrate` handed over."""
    connection = config.attributes.get("connection")
    if connection is None:  # pragma: no cover - db.core.migrate always passes one
        engine = make_engine(config.get_main_option("sqlalchemy.url"))
        with engine.begin() as connection:
            _run(connection)
        engine.dispose()
        return
    _run(connection)


def _run(connection: Connection) -> None:
    """Configure alembic on `connection` (batch mode on SQLite, which cannot ALTER most things) and migrate."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
