"""Schema and migrations: upgrade an empty database, upgrade one that already holds data, models == migration."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from db.core.engine import make_engine, session_scope
from db.core.migrate import current_revision, head_revision, upgrade_to_head
from db.models import Booking, CareSession, Institution, User
from tests.db_fixtures import book, make_institution, make_session, model_drift

CARE_TABLES = {"users", "institutions", "care_sessions", "bookings"}


def revision_history() -> list[str]:
    """Every revision id from head back to the first."""
    from alembic.script import ScriptDirectory

    from db.core.migrate import alembic_config

    return [rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()]


def test_upgrade_empty_database(db_url):
    engine = make_engine(db_url)
    try:
        assert current_revision(engine) is None
        upgrade_to_head(engine)
        assert current_revision(engine) == head_revision()
        assert "0001_initial" in revision_history()
        tables = set(inspect(engine).get_table_names())
        assert tables >= CARE_TABLES
        indexes = {ix["name"] for ix in inspect(engine).get_indexes("institutions")}
        assert "ix_institutions_lat_lon" in indexes
        lat_lon = next(ix for ix in inspect(engine).get_indexes("institutions") if ix["name"] == "ix_institutions_lat_lon")
        assert lat_lon["column_names"] == ["lat", "lon"]
        session_indexes = {ix["name"]: ix["column_names"] for ix in inspect(engine).get_indexes("care_sessions")}
        assert session_indexes["ix_care_sessions_institution_date"] == ["institution_id", "date"]
        # Calling it again is a no-op.
        upgrade_to_head(engine)
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_upgrade_keeps_data_of_a_pre_alembic_database(db_url):
    """A database made before migrations existed (create_all of `users` only, with rows) keeps its rows."""
    engine = make_engine(db_url)
    try:
        User.__table__.create(engine)
        with session_scope(engine) as session:
            session.add(User(telegram_id=7_000_000_001, language="en", role="staff", display_name="老用户"))
        upgrade_to_head(engine)
        assert current_revision(engine) == head_revision()
        with session_scope(engine) as session:
            user = session.get(User, 7_000_000_001)
            assert user.language == "en" and user.display_name == "老用户"
        assert set(inspect(engine).get_table_names()) >= CARE_TABLES
    finally:
        engine.dispose()


def test_upgrade_keeps_care_data(db_engine):
    """Upgrading a database already at head (as at every bot start) leaves bookings and sessions alone."""

    inst = make_institution(db_engine)
    care = make_session(db_engine, inst, date(2030, 1, 2))
    booking = book(db_engine, care, 5, 20, now=datetime(2030, 1, 1, tzinfo=UTC))
    upgrade_to_head(db_engine)
    upgrade_to_head(db_engine.url.render_as_string(hide_password=False))
    with session_scope(db_engine) as session:
        assert session.get(Booking, booking.id).code == booking.code
        assert session.get(CareSession, care).booked == 1


def test_unrelated_tables_survive(db_url):
    engine = make_engine(db_url)
    try:
        meta = MetaData()
        other = Table("other_notes", meta, Column("id", Integer, primary_key=True), Column("note", String(20)))
        meta.create_all(engine)
        with engine.begin() as conn:
            conn.execute(other.insert().values(id=1, note="keep me"))
        upgrade_to_head(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT note FROM other_notes")).scalar() == "keep me"
    finally:
        engine.dispose()


def test_migration_matches_models(db_engine):
    """Autogenerate finds nothing to change for our tables: the migration and the models agree."""
    assert model_drift(db_engine, CARE_TABLES) == []


#: Tables whose model lists its columns in another order than the migration made them: the institution's
#: descriptive fields come first because the CSV row inherits them (`InstitutionFields`). Nothing reads a
#: column by position; the names, types and constraints are compared by `model_drift`.
ORDER_DIFFERS = {"institutions"}


def test_a_database_made_from_the_models_has_the_migrations_column_order(db_engine, tmp_path):
    """`create_all` (a database the migrations adopt) lays out each table's columns as the migrations do."""
    made = make_engine(f"sqlite:///{tmp_path / 'made.db'}")
    SQLModel.metadata.create_all(made)
    migrated, created = inspect(db_engine), inspect(made)
    differ = {
        name for name in SQLModel.metadata.tables
        if [c["name"] for c in migrated.get_columns(name)] != [c["name"] for c in created.get_columns(name)]
    }
    assert differ == ORDER_DIFFERS
    made.dispose()


def test_check_constraint_stops_overbooking_at_the_database(db_engine):
    inst = make_institution(db_engine)
    care = make_session(db_engine, inst, date(2030, 1, 2), capacity=1)
    with pytest.raises(IntegrityError), db_engine.begin() as conn:
        conn.execute(text("UPDATE care_sessions SET booked = 2 WHERE id = :id"), {"id": care})


def test_datetimes_come_back_aware(db_engine):
    inst = make_institution(db_engine)
    with session_scope(db_engine) as session:
        created = session.get(Institution, inst).created_at
    assert created.tzinfo is not None
    assert abs((datetime.now(UTC) - created).total_seconds()) < 120


def test_json_and_bigint_columns_round_trip(db_engine):
    inst = make_institution(db_engine, fees={"全日托": 1787, "计时托": 35.5}, operator_user_id=9_876_543_210)
    with session_scope(db_engine) as session:
        row = session.get(Institution, inst)
        assert row.fees == {"全日托": 1787, "计时托": 35.5}
        assert row.operator_user_id == 9_876_543_210
        assert row.classes == ["乳儿班", "托小班", "托大班"]
