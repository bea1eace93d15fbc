"""Conversation state for every flow, kept in the database (`db/core/conversation.py`), never in process memory.

A handler asks for ITS flow's state, changes it like a dict, and the change is written back within the same
update, so a restarted bot or another worker continues where the user was:

    from bot.state import flow_state

    async with flow_state(context, user_id, "care") as state:   # loaded off the event loop
        state["search"] = {"place": "思明区", "page": 0}
        ...
        await state.save()        # optional: store now, before telling the user (see "conflicts" below)
        await send_the_answer()
    # leaving the block stores what changed since the last save (nothing is written when nothing changed)

* One flow, one row (`user_id`, `flow`): a flow never sees or touches another flow's keys.
* `source` may be a PTB context, an Application, a `bot.runtime.Runtime` or an SQLAlchemy Engine.
* Values must be JSON (str, int, float, bool, None, lists and dicts of them); dates go in as ISO strings and
  moments as epoch seconds (`time.time()`, never `time.monotonic()`: another process reads them).
* `state.clear()` forgets the flow's state (an empty dict is stored; `db.conversation.purge_states` removes old
  rows).
* An exception in the block discards the block's changes (nothing half-done is stored), except
  `ApplicationHandlerStop`, which is how a handler says "handled, stop here" and so saves.
* Open the state once per update and pass the `FlowState` down: a second block on the same flow inside the first
  would see the first one's save as a concurrent change.

Flows never reach into each other. A flow that must know whether the update's user is in another flow asks
`in_flow(context.user_data, update, "filing")` or `active_flows(context, update)` (memory only: what that flow's
early handler kept for THIS update with `keep_for_update`, judged by the rule it gave `define_membership`);
`clear_flows(context, user_id, except_=("care",))` forgets every other flow's state.

Conflicts. Saving carries the version read. When another update of the same user was stored meanwhile (two
workers handling two taps at the same moment), the save re-reads the row and re-applies THIS block's change once,
as a three-way merge at the level of top-level keys: if the other writer changed only other keys, both changes
are kept; if both changed the same key, neither wins silently and `StateConflict` is raised. We chose this over
"last writer wins" (which silently loses a tap the user saw answered) and over re-running the handler (which
would send its messages twice). A flow catches `StateConflict` and asks the user to tap again, so a flow should
`await state.save()` BEFORE it sends what it has decided: then nothing was said that the stored state does not
reflect. A second concurrent change during the retry also raises `StateConflict`.

Read once per update. An update of a private conversation passes through several flows' early handlers (filing,
staff, care, then policy), each asking for its own state. So that this costs one database read rather than one
per flow, the first read of an update (`bot.runtime.load_user_language`, with the user's language) fetches every
flow's row of the update's user into an `UpdatePrefetch`, which lives exactly as long as that update
(`update_prefetch()`, opened by `bot.update_processor`). The first `load_flow_state` of each flow in the update
is answered from it; a second load of the same flow, a flow cleared meanwhile, another user, or anything after
the update ended (a task it spawned) reads the database as before. One user's updates run one at a time in a
process, so within the update the prefetched row is what a read would return; another worker writing meanwhile
is the concurrent change the versions already detect.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import AsyncIterator, Callable, Iterator, MutableMapping
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy.engine import Engine
from telegram.ext import ApplicationHandlerStop

from db.core.conversation import Snapshot, StaleState, clear_state, load_state, load_states, save_state
from db.core.engine import session_scope

log = logging.getLogger(__name__)
_MISSING = object()


class StateConflict(Exception):
    """Another update of the same user changed the same part of this flow's state at the same time."""


class UpdatePrefetch:
    """Every flow's state of one update's user, as read at the start of that update (see the module docstring)."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.user_id: int | None = None
        self._states: dict[str, Callable[[], Snapshot]] = {}
        self._taken: set[str] = set()
        self.closed = False
        self.user_known = False  # the update's user has a row in `users` (read with the language)

    def fill(self, engine: Engine, user_id: int, states: dict[str, Callable[[], Snapshot]]) -> None:
        """Remember `db.conversation.load_states` for this user (what is not in `states` has no state)."""
        self.engine, self.user_id, self._states, self._taken = engine, user_id, dict(states), set()

    def take(self, engine: Engine, user_id: int, flow: str) -> tuple[bool, Snapshot | None]:
        """(True, the flow's snapshot or None) the first time this update asks for a flow of its own user;
        (False, None) when the database must be asked."""
        if self.closed or engine is not self.engine or user_id != self.user_id or flow in self._taken:
            return False, None
        self._taken.add(flow)
        decode = self._states.pop(flow, None)
        return True, (decode() if decode is not None else None)

    def forget(self, user_id: int, flow: str | None = None) -> None:
        """The user's state in `flow` (every flow: None) was changed otherwise: read it from the database."""
        if user_id == self.user_id:
            if flow is None:
                self.closed = True
            else:
                self._taken.add(flow)
                self._states.pop(flow, None)

    def flows(self) -> list[str]:
        """The flows whose prefetched state is still to be taken."""
        return list(self._states)

    def close(self) -> None:
        """The update is over: nothing is answered from memory any more."""
        self.closed = True
        self._states = {}


_PREFETCH: ContextVar[UpdatePrefetch | None] = ContextVar("tuoyu_update_prefetch", default=None)


def current_prefetch() -> UpdatePrefetch | None:
    """The prefetch of the update being processed (None outside one, or once it ended)."""
    holder = _PREFETCH.get()
    return None if holder is None or holder.closed else holder


@contextmanager
def update_prefetch() -> Iterator[UpdatePrefetch]:
    """Open the prefetch of one update for the code run inside the block (and closed when it ends)."""
    holder = UpdatePrefetch()
    token = _PREFETCH.set(holder)
    try:
        yield holder
    finally:
        holder.close()
        _PREFETCH.reset(token)


def engine_of(source: Any) -> Engine:
    """The database engine behind a PTB context, an Application, a Runtime or an Engine."""
    if isinstance(source, Engine):
        return source
    engine = getattr(source, "engine", None)  # bot.runtime.Runtime
    if isinstance(engine, Engine):
        return engine
    application = getattr(source, "application", source)  # a CallbackContext has .application
    bot_data = getattr(application, "bot_data", None)
    if isinstance(bot_data, dict) and "runtime" in bot_data:
        return bot_data["runtime"].engine
    raise TypeError(f"cannot find a database engine in {type(source).__name__}")


class FlowState(MutableMapping):
    """One user's state in one flow: a dict that knows what it was when read and stores its changes."""

    def __init__(self, engine: Engine, user_id: int, flow: str, data: dict, version: int | None) -> None:
        self.engine = engine
        self.user_id = user_id
        self.flow = flow
        self.version = version  # None: no row yet
        self._data = data
        self._base = copy.deepcopy(data)  # what is stored at `version`

    # --- the dict part ---
    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._data[key] = value

    def __delitem__(self, key: str) -> None:
        del self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"FlowState({self.flow!r}, user={self.user_id}, version={self.version}, keys={sorted(self._data)})"

    @property
    def changed(self) -> bool:
        """Whether there is anything to store."""
        return self._data != self._base

    def as_dict(self) -> dict:
        """A deep copy of the current data."""
        return copy.deepcopy(self._data)

    # --- storing ---
    def _changed_keys(self) -> set[str]:
        keys = set(self._data) | set(self._base)
        return {k for k in keys if self._data.get(k, _MISSING) != self._base.get(k, _MISSING)}

    def _store(self, data: dict, expected_version: int | None) -> int:
        with session_scope(self.engine) as session:
            return save_state(self.user_id, self.flow, data, expected_version=expected_version, session=session)

    def _save_sync(self) -> None:
        try:
            self.version = self._store(self._data, self.version)
            self._base = copy.deepcopy(self._data)
            return
        except StaleState:
            pass
        # Someone else stored a newer version: re-apply our change on top of theirs, once.
        mine = self._changed_keys()
        fresh = _read_state(self.engine, self.user_id, self.flow)
        theirs_data, theirs_version = (fresh.data, fresh.version) if fresh else ({}, None)
        keys = set(theirs_data) | set(self._base)
        theirs = {k for k in keys if theirs_data.get(k, _MISSING) != self._base.get(k, _MISSING)}
        if mine & theirs:
            log.info("state conflict: user %s flow %s keys %s", self.user_id, self.flow, sorted(mine & theirs))
            raise StateConflict(f"{self.flow}: {sorted(mine & theirs)} changed by two updates at once")
        merged = copy.deepcopy(theirs_data)
        for key in mine:
            if key in self._data:
                merged[key] = copy.deepcopy(self._data[key])
            else:
                merged.pop(key, None)
        try:
            self.version = self._store(merged, theirs_version)
        except StaleState as error:
            log.info("state conflict on retry: user %s flow %s", self.user_id, self.flow)
            raise StateConflict(f"{self.flow}: changed again while merging") from error
        log.info("state merged: user %s flow %s version %s", self.user_id, self.flow, self.version)
        self._data.clear()
        self._data.update(merged)
        self._base = copy.deepcopy(merged)

    async def save(self) -> None:
        """Store the changes now (off the event loop); a no-op when nothing changed. Raises StateConflict."""
        if self.changed:
            await asyncio.to_thread(self._save_sync)


def _read_state(engine: Engine, user_id: int, flow: str) -> Snapshot | None:
    """One flow's stored state, read in its own short unit of work (worker thread)."""
    with session_scope(engine) as session:
        return load_state(user_id, flow, session=session)


def _clear_states(engine: Engine, user_id: int, *, only: str | None = None, keep: tuple[str, ...] = ()) -> None:
    """Forget the user's state in `only` (every flow but those in `keep` when None), in one unit of work."""
    with session_scope(engine) as session:
        flows = [only] if only is not None else [f for f in load_states(user_id, session=session) if f not in keep]
        for flow in flows:
            clear_state(user_id, flow, session=session)


async def load_flow_state(source: Any, user_id: int, flow: str) -> FlowState:
    """The user's state in `flow` (empty when there is none), read off the event loop. Call `save()` yourself;
    `flow_state` does it for you."""
    engine = engine_of(source)
    holder = current_prefetch()
    found, snapshot = holder.take(engine, user_id, flow) if holder is not None else (False, None)
    if not found:
        snapshot = await asyncio.to_thread(_read_state, engine, user_id, flow)
    if snapshot is None:
        return FlowState(engine, user_id, flow, {}, None)
    return FlowState(engine, user_id, flow, snapshot.data, snapshot.version)


@asynccontextmanager
async def flow_state(source: Any, user_id: int, flow: str) -> AsyncIterator[FlowState]:
    """`async with flow_state(context, user_id, "care") as state:` — see the module docstring."""
    state = await load_flow_state(source, user_id, flow)
    try:
        yield state
    except ApplicationHandlerStop:
        await state.save()
        raise
    await state.save()


async def clear_flow_state(source: Any, user_id: int, flow: str) -> None:
    """Forget the user's state in `flow` unconditionally (e.g. /start over, an operator's reset)."""
    holder = current_prefetch()
    if holder is not None:
        holder.forget(user_id, flow)
    await asyncio.to_thread(_clear_states, engine_of(source), user_id, only=flow)


async def clear_flows(source: Any, user_id: int, *, except_: tuple[str, ...] = ()) -> None:
    """Forget the user's state in every flow but those in `except_` (e.g. a command that starts over): a flow
    never needs another flow's keys, or its module, for this."""
    holder = current_prefetch()
    if holder is not None:
        for flow in holder.flows():
            if flow not in except_:
                holder.forget(user_id, flow)
    await asyncio.to_thread(_clear_states, engine_of(source), user_id, keep=except_)


# --- Who is in which flow, for this update -------------------------------------------------------------------
#
# A flow's early handler loads its state once per update and keeps it here (in user_data, keyed by the update:
# a per-update cache, never the source of truth), so filters and other flows can ask, from memory only, whether
# the update's user is in that flow — without importing the flow or reading its keys.

UPDATE_STATES_KEY = "flow_states_seen"  # user_data: {(update id, object id): {flow: FlowState}}
UPDATE_STATES_KEEP = 4  # updates of one user remembered (only the current one is ever read)
_MEMBERSHIP: dict[str, Callable[[FlowState, float | None], bool]] = {}


def update_key(update: Any) -> tuple[int, int]:
    """This very update: its id, and the object (a re-delivered update is a new object, loaded afresh)."""
    return update.update_id, id(update)


def keep_for_update(user_data: dict | None, update: Any, state: FlowState) -> None:
    """Remember the flow state loaded for this update (read back by `kept_for_update` and `in_flow`)."""
    if user_data is None:
        return
    seen = user_data.setdefault(UPDATE_STATES_KEY, {})
    seen.setdefault(update_key(update), {})[state.flow] = state
    while len(seen) > UPDATE_STATES_KEEP:
        seen.pop(next(iter(seen)))


def kept_for_update(user_data: dict | None, update: Any, flow: str) -> FlowState | None:
    """The state of `flow` kept for this update, or None (memory only)."""
    if not user_data:
        return None
    return (user_data.get(UPDATE_STATES_KEY) or {}).get(update_key(update), {}).get(flow)


def define_membership(flow: str, member: Callable[[FlowState, float | None], bool]) -> None:
    """Say how to tell, from its state, that a user is in `flow` (`member(state, window_seconds)`)."""
    _MEMBERSHIP[flow] = member


def in_flow(user_data: dict | None, update: Any, flow: str, window: float | None = None) -> bool:
    """Whether this update's user is in `flow`, as the flow's state kept for THIS update says (memory only;
    False when the flow kept nothing for the update). `window`: worked on within that many seconds."""
    state = kept_for_update(user_data, update, flow)
    member = _MEMBERSHIP.get(flow)
    return state is not None and member is not None and member(state, window)


def active_flows(context: Any, update: Any) -> list[str]:
    """The flows this update's user is in (those that kept their state for this update), for a flow deciding
    whether a message is its own: `if "filing" in active_flows(context, update): ...`."""
    seen = (context.user_data or {}).get(UPDATE_STATES_KEY) or {}
    return [flow for flow in seen.get(update_key(update), {}) if in_flow(context.user_data, update, flow)]
