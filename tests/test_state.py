"""`bot.state`: a flow's state read and written in the database within an update, on SQLite and PostgreSQL —
saved only when changed, discarded on an error, merged when another writer changed other keys, refused
(`StateConflict`) when both changed the same key."""

from __future__ import annotations

import pytest
from telegram.ext import ApplicationHandlerStop

from bot.state import StateConflict, clear_flow_state, clear_flows, engine_of, flow_state, load_flow_state
from db.core.engine import make_engine, run_unit
from tests.db_fixtures import engine_url
from tests.unit_of_work import load_state

USER = 4242


async def test_round_trip_and_no_write_without_a_change(db_engine):
    async with flow_state(db_engine, USER, "care") as state:
        assert dict(state) == {} and state.version is None
        state["search"] = {"place": "思明区", "page": 0}
    assert load_state(db_engine, USER, "care").data == {"search": {"place": "思明区", "page": 0}}
    async with flow_state(db_engine, USER, "care") as state:
        assert state["search"]["place"] == "思明区"
        _ = state.get("await")
    assert load_state(db_engine, USER, "care").version == 1, "reading alone writes nothing"
    async with flow_state(db_engine, USER, "care") as state:
        state["search"]["page"] = 2  # a change inside a nested value counts
    snapshot = load_state(db_engine, USER, "care")
    assert snapshot.version == 2 and snapshot.data["search"]["page"] == 2
    # flows are separate rows: another flow sees none of care's keys
    async with flow_state(db_engine, USER, "filing") as other:
        assert dict(other) == {}
        other["step"] = 3
    assert load_state(db_engine, USER, "care").data == {"search": {"place": "思明区", "page": 2}}
    await clear_flow_state(db_engine, USER, "care")
    assert load_state(db_engine, USER, "care") is None and load_state(db_engine, USER, "filing").data == {"step": 3}


async def test_an_error_discards_the_change_but_handler_stop_saves(db_engine):
    with pytest.raises(RuntimeError):
        async with flow_state(db_engine, USER, "care") as state:
            state["await"] = "place"
            raise RuntimeError("the handler failed half-way")
    assert load_state(db_engine, USER, "care") is None
    with pytest.raises(ApplicationHandlerStop):
        async with flow_state(db_engine, USER, "care") as state:
            state["await"] = "place"
            raise ApplicationHandlerStop
    assert load_state(db_engine, USER, "care").data == {"await": "place"}


async def test_explicit_save_then_more_changes(db_engine):
    async with flow_state(db_engine, USER, "care") as state:
        state["await"] = "place"
        await state.save()
        assert load_state(db_engine, USER, "care").data == {"await": "place"}
        await state.save()  # nothing new: no write
        assert load_state(db_engine, USER, "care").version == 1
        state.pop("await")
    snapshot = load_state(db_engine, USER, "care")
    assert snapshot.data == {} and snapshot.version == 2


@pytest.fixture
def other_engine(db_engine):
    """A second worker's engine on the same database."""
    engine = make_engine(engine_url(db_engine))
    yield engine
    engine.dispose()


async def _two_readers(db_engine, other_engine):
    """A seeded care search, read by two workers at the same version."""
    async with flow_state(db_engine, USER, "care") as seed:
        seed["search"] = {"place": "思明区", "page": 0}
    return await load_flow_state(db_engine, USER, "care"), await load_flow_state(other_engine, USER, "care")


async def test_two_workers_changing_different_keys_both_keep_their_change(db_engine, other_engine):
    """Two workers read the same version; one stores a new search, the other the awaited age: both survive."""
    first, second = await _two_readers(db_engine, other_engine)
    first["search"]["page"] = 1
    second["await"] = {"kind": "age", "session": 7, "at": 1.0}
    await first.save()
    await second.save()  # stale: re-read, re-applied on top of the first's change
    stored = load_state(db_engine, USER, "care")
    assert stored.data == {"search": {"place": "思明区", "page": 1}, "await": {"kind": "age", "session": 7, "at": 1.0}}
    assert stored.version == 3 and second.version == 3 and dict(second) == stored.data
    # both start from scratch (no row yet) in another flow: the second insert merges too
    a, b = await load_flow_state(db_engine, USER, "x"), await load_flow_state(other_engine, USER, "x")
    a["one"], b["two"] = 1, 2
    await a.save()
    await b.save()
    assert load_state(db_engine, USER, "x").data == {"one": 1, "two": 2}


async def test_two_workers_changing_the_same_key_is_a_conflict_not_a_silent_loss(db_engine, other_engine):
    first, second = await _two_readers(db_engine, other_engine)
    first["search"]["age"] = 12
    second["search"]["puhui"] = True
    await first.save()
    with pytest.raises(StateConflict):
        await second.save()
    assert load_state(db_engine, USER, "care").data == {"search": {"place": "思明区", "page": 0, "age": 12}}
    # a removal racing a change of the same key is a conflict as well
    third = await load_flow_state(other_engine, USER, "care")
    fourth = await load_flow_state(db_engine, USER, "care")
    third.pop("search")
    fourth["search"]["page"] = 3
    await fourth.save()
    with pytest.raises(StateConflict):
        await third.save()
    assert load_state(db_engine, USER, "care").data["search"]["page"] == 3


def test_engine_of_accepts_the_usual_sources(db_engine):
    from types import SimpleNamespace

    from bot.context import Runtime

    runtime = Runtime(settings=None, engine=db_engine)
    application = SimpleNamespace(bot_data={"runtime": runtime})
    context = SimpleNamespace(application=application)
    assert engine_of(db_engine) is engine_of(runtime) is engine_of(application) is engine_of(context) is db_engine
    with pytest.raises(TypeError):
        engine_of(object())


async def test_one_read_per_update_answers_each_flows_first_load(db_engine, monkeypatch):
    """The update's first read (language + every flow's row) answers each flow's first load once; a second load,
    a cleared flow, another user and anything after the update read the database."""
    import asyncio

    from bot import state as state_module
    from bot.runtime import _read_user
    from bot.state import current_prefetch, update_prefetch

    async with flow_state(db_engine, USER, "care") as care:
        care["search"] = {"page": 1}
    async with flow_state(db_engine, USER, "staff") as staff:
        staff["draft"] = 7
    reads: list[tuple[int, str]] = []
    real_load = state_module._read_state

    def counting_load(engine, user_id, flow):
        reads.append((user_id, flow))
        return real_load(engine, user_id, flow)

    monkeypatch.setattr(state_module, "_read_state", counting_load)
    assert current_prefetch() is None
    with update_prefetch() as holder:
        language, states = await asyncio.to_thread(run_unit, db_engine, _read_user, USER)
        assert language is None and set(states) == {"care", "staff"}  # no users row, two flows
        holder.fill(db_engine, USER, states)
        care = await load_flow_state(db_engine, USER, "care")
        assert dict(care) == {"search": {"page": 1}} and care.version == 1
        assert dict(await load_flow_state(db_engine, USER, "policy")) == {}  # known: no row
        assert reads == []
        care["search"] = {"page": 2}
        await care.save()
        assert (await load_flow_state(db_engine, USER, "care"))["search"] == {"page": 2}  # second load: database
        await clear_flow_state(db_engine, USER, "staff")
        assert dict(await load_flow_state(db_engine, USER, "staff")) == {}  # cleared: database
        await load_flow_state(db_engine, USER + 1, "care")  # another user: database
        assert reads == [(USER, "care"), (USER, "staff"), (USER + 1, "care")]
    assert current_prefetch() is None and holder.closed
    assert holder.take(db_engine, USER, "filing") == (False, None)  # a task outliving the update reads the database


async def test_clear_flows_forgets_every_flow_but_those_kept_also_within_a_prefetched_update(db_engine):
    """`clear_flows` clears other flows' rows without knowing their keys; a flow cleared during an update whose
    states were prefetched is read again from the database, not from the prefetch."""
    import asyncio

    from bot.runtime import _read_user
    from bot.state import update_prefetch

    for flow in ("care", "kb", "filing"):
        async with flow_state(db_engine, USER, flow) as state:
            state["x"] = flow
    async with flow_state(db_engine, USER + 1, "care") as other:
        other["x"] = 1
    with update_prefetch() as holder:
        holder.fill(db_engine, USER, (await asyncio.to_thread(run_unit, db_engine, _read_user, USER))[1])
        await clear_flows(db_engine, USER, except_=("filing",))
        assert dict(await load_flow_state(db_engine, USER, "care")) == {}
        assert dict(await load_flow_state(db_engine, USER, "filing")) == {"x": "filing"}
    assert load_state(db_engine, USER, "kb") is None and load_state(db_engine, USER + 1, "care").data == {"x": 1}
    await clear_flows(db_engine, USER)
    assert load_state(db_engine, USER, "filing") is None
