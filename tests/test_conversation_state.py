"""Conversation state in the database, on SQLite and PostgreSQL: round trip, versions, concurrent writers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from db.core import conversation
from db.core.conversation import STATE_MAX_BYTES, StaleState, purge_states
from db.core.engine import run_unit, session_scope
from tests.db_fixtures import engine_url, race_on_own_engines
from tests.unit_of_work import clear_state, load_state, save_state


def test_round_trip_and_versions(db_engine):
    assert load_state(db_engine, 1, "care") is None
    v1 = save_state(db_engine, 1, "care", {"place": "杨舍", "age": 18}, expected_version=None)
    snap = load_state(db_engine, 1, "care")
    assert (snap.data, snap.version, v1) == ({"place": "杨舍", "age": 18}, 1, 1)
    v2 = save_state(db_engine, 1, "care", {"place": "思明"}, expected_version=snap.version)
    assert v2 == 2 and load_state(db_engine, 1, "care").data == {"place": "思明"}
    with pytest.raises(StaleState):
        save_state(db_engine, 1, "care", {"place": "湖里"}, expected_version=1)
    with pytest.raises(StaleState):
        save_state(db_engine, 1, "care", {}, expected_version=None)
    assert load_state(db_engine, 1, "care").data == {"place": "思明"}, "a stale write changed nothing"


def test_flows_and_users_are_separate_and_clear(db_engine):
    save_state(db_engine, 7, "care", {"a": 1}, expected_version=None)
    save_state(db_engine, 7, "filing", {"case": 3}, expected_version=None)
    save_state(db_engine, 8, "care", {"a": 2}, expected_version=None)
    clear_state(db_engine, 7, "care")
    assert load_state(db_engine, 7, "care") is None
    assert load_state(db_engine, 7, "filing").data == {"case": 3}
    clear_state(db_engine, 7)
    assert load_state(db_engine, 7, "filing") is None
    assert load_state(db_engine, 8, "care").data == {"a": 2}


def test_oversized_state_is_refused(db_engine):
    with pytest.raises(ValueError):
        save_state(db_engine, 1, "care", {"x": "托" * STATE_MAX_BYTES}, expected_version=None)
    assert load_state(db_engine, 1, "care") is None


def test_purge_keeps_recent_states(db_engine):
    save_state(db_engine, 1, "care", {}, expected_version=None)
    assert run_unit(db_engine, purge_states, timedelta(days=30)) == 0
    assert run_unit(db_engine, purge_states, timedelta(seconds=-1)) == 1
    assert load_state(db_engine, 1, "care") is None


def test_concurrent_writers_from_one_version_exactly_one_wins(db_engine):
    """Two workers read version 1 and both write: one succeeds, the other is told its read is stale."""
    save_state(db_engine, 5, "kb", {"draft": 1}, expected_version=None)

    def writer(engine, n: int) -> str:
        try:
            save_state(engine, 5, "kb", {"draft": 1, "by": n}, expected_version=1)
        except StaleState:
            return "stale"
        return "ok"

    outcomes = race_on_own_engines(engine_url(db_engine), 8, writer)
    assert sorted(outcomes) == ["ok"] + ["stale"] * 7
    assert load_state(db_engine, 5, "kb").version == 2


def test_the_caller_owns_the_session_a_refused_write_leaves_it_usable(db_engine):
    """Several writes in one unit of work commit together; a stale write raises but the session goes on (no
    aborted transaction on PostgreSQL), and nothing is stored when the unit of work fails."""
    save_state(db_engine, 9, "care", {"a": 1}, expected_version=None)
    with session_scope(db_engine) as session:
        with pytest.raises(StaleState):
            conversation.save_state(9, "care", {"a": 2}, expected_version=None, session=session)
        conversation.save_state(9, "kb", {"draft": 4}, expected_version=None, session=session)
        conversation.save_state(9, "care", {"a": 3}, expected_version=1, session=session)
        assert set(conversation.load_states(9, session=session)) == {"care", "kb"}
    assert load_state(db_engine, 9, "care").data == {"a": 3} and load_state(db_engine, 9, "kb").version == 1
    with pytest.raises(RuntimeError), session_scope(db_engine) as session:
        conversation.clear_state(9, session=session)
        raise RuntimeError("the unit of work failed")
    assert load_state(db_engine, 9, "kb").data == {"draft": 4}, "rolled back with the unit of work"
