"""Alembic migrations (env.py, versions/); run them with `db.core.migrate.upgrade_to_head`."""
