"""Tests' shorthand for one unit of work, as `BotContext.db` runs it in the bot: `run_unit(engine, fn, *args)` runs
`fn(*args, session=…)` in a session that commits on success. `load_state` reads a stored conversation state."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.engine import Engine

from db.core import conversation
from db.core.engine import run_unit

T = TypeVar("T")


def load_state(engine: Engine, user_id: int, flow: str) -> conversation.Snapshot | None:
    """The user's stored state in `flow` (None: none), read in its own unit of work."""
    return run_unit(engine, conversation.load_state, user_id, flow)


def save_state(engine: Engine, user_id: int, flow: str, data: dict, *, expected_version: int | None) -> int:
    """Store a conversation state in its own unit of work (raises `StaleState` as `conversation.save_state`)."""
    return run_unit(engine, conversation.save_state, user_id, flow, data, expected_version=expected_version)


def clear_state(engine: Engine, user_id: int, flow: str | None = None) -> None:
    """Forget a stored conversation state in its own unit of work."""
    run_unit(engine, conversation.clear_state, user_id, flow)
