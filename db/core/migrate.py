"""Schema migrations with alembic, configured in code (script location `db/migrations`, no alembic.ini).

    from db.core.migrate import upgrade_to_head
    upgrade_to_head(engine)          # or upgrade_to_head("sqlite:///data/tuoyu.sqlite3")

The CLI commands and the bot call `upgrade_to_head` at start; it is cheap when the schema is current.
Create a new revision (developers): `python -m db.core.migrate revision -m "add x"` (autogenerate against a
scratch SQLite database upgraded to head), then review the file under `db/migrations/versions/`.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An alembic Config pointing at `db/migrations` (and at `url` for offline use)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest revision id in `db/migrations/versions`."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for a database never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(engine_or_url: Engine | str) -> None:
    """Bring the database to the newest schema revision, keeping existing data.

    Accepts an Engine or a SQLAlchemy URL. Safe to call at every start: a database already at head is
    detected with one query and left alone.
    """
    from db.core.engine import make_engine

    own_engine = isinstance(engine_or_url, str)
    engine = make_engine(engine_or_url) if own_engine else engine_or_url
    try:
        if current_revision(engine) == head_revision():
            return
        config = alembic_config()
        with engine.begin() as connection:
            # Serialise concurrent starters (two CLI processes on a fresh database), then look again.
            if connection.dialect.name == "sqlite":
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            elif connection.dialect.name == "postgresql":
                # The bot's engines carry short statement/lock timeouts; a migration (and a worker waiting
                # for another worker's migration) may legitimately take longer.
                connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
                connection.exec_driver_sql("SET LOCAL lock_timeout = 0")
                connection.exec_driver_sql("SELECT pg_advisory_xact_lock(770011)")
            if MigrationContext.configure(connection).get_current_revision() == head_revision():
                return
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        if own_engine:
            engine.dispose()


def _main(argv: list[str]) -> int:  # pragma: no cover - developer helper
    import argparse
    import tempfile

    from db.core.engine import make_engine

    parser = argparse.ArgumentParser(prog="python -m db.core.migrate")
    sub = parser.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("upgrade", help="upgrade a database to head")
    up.add_argument("url")
    rev = sub.add_parser("revision", help="autogenerate a new revision from the models")
    rev.add_argument("-m", "--message", required=True)
    args = parser.parse_args(argv)
    if args.cmd == "upgrade":
        upgrade_to_head(args.url)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/scratch.sqlite3")
        upgrade_to_head(engine)
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.revision(config, message=args.message, autogenerate=True)
        engine.dispose()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(_main(sys.argv[1:]))
