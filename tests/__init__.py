"""Test package: makes `from tests.db_fixtures import db_engine` importable however pytest is started."""
