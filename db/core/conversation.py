"""Conversation state in the database: what a user's flow needs across messages (search filters, the booking
in progress, an awaited input, a staff draft being edited, the filing step), one JSON object per user and flow.

Every worker reads it at the start of an update and writes it back within the update, so a restart or another
worker continues where the user was. Writes carry the version they read: a write based on an older version
(another worker changed it meanwhile) raises `StaleState` instead of silently overwriting it.

Every function takes the caller's session (`*, session`) and never commits: the caller's unit of work does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy import BigInteger, Column, String, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel

FLOW_NAME_MAX = 16
STATE_MAX_BYTES = 16_384  # a state is a few ids and choices; anything bigger is a bug, not user data


_UPSERT_INSERTS = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}


def _now() -> datetime:
    return datetime.now(UTC)


class ConversationState(SQLModel, table=True):
    """One user's state in one flow."""

    __tablename__ = "conversation_state"

    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    flow: str = Field(sa_column=Column(String(FLOW_NAME_MAX), primary_key=True))
    data: str = Field(default="{}")  # JSON object
    version: int = Field(default=1)
    updated_at: datetime = Field(default_factory=_now, index=True)


class StaleState(Exception):
    """The state changed since it was read (another worker or a concurrent update wrote it)."""


@dataclass(frozen=True)
class Snapshot:
    """A state as read: its data and the version to pass back when saving."""

    data: dict
    version: int
    updated_at: datetime


def _encode(data: dict) -> str:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    if len(text.encode("utf-8")) > STATE_MAX_BYTES:
        raise ValueError(f"conversation state over {STATE_MAX_BYTES} bytes")
    return text


def _snapshot(row) -> Snapshot:
    updated_at = row.updated_at if row.updated_at.tzinfo else row.updated_at.replace(tzinfo=UTC)
    return Snapshot(json.loads(row.data), row.version, updated_at)


def load_state(user_id: int, flow: str, *, session: Session) -> Snapshot | None:
    """The user's state in `flow`, or None when there is none."""
    table = ConversationState.__table__
    row = session.execute(
        select(table.c.data, table.c.version, table.c.updated_at).where(
            table.c.user_id == user_id, table.c.flow == flow
        )
    ).first()
    return None if row is None else _snapshot(row)


def load_states(user_id: int, *, session: Session) -> dict[str, Callable[[], Snapshot]]:
    """Every flow's state of the user in one query: flow -> a function decoding its snapshot (JSON is decoded
    only for the flows asked for). A flow missing from the dict has no state."""
    table = ConversationState.__table__
    rows = session.execute(
        select(table.c.flow, table.c.data, table.c.version, table.c.updated_at).where(table.c.user_id == user_id)
    ).all()
    return {row.flow: partial(_snapshot, row) for row in rows}


def _insert_if_absent(session: Session, values: dict) -> bool:
    """Insert the row unless one with its key exists (another writer's); True when inserted. ON CONFLICT DO
    NOTHING leaves the caller's transaction usable, where a failed plain INSERT would abort it (PostgreSQL)."""
    table = ConversationState.__table__
    dialect = session.get_bind().dialect.name
    if dialect in _UPSERT_INSERTS:
        stmt = _UPSERT_INSERTS[dialect](table).values(**values).on_conflict_do_nothing().returning(table.c.version)
        return session.execute(stmt).first() is not None
    try:
        with session.begin_nested():
            session.execute(insert(table).values(**values))
    except IntegrityError:
        return False
    return True


def save_state(user_id: int, flow: str, data: dict, *, expected_version: int | None, session: Session) -> int:
    """Store `data` as the user's state in `flow` and return its new version.

    `expected_version` is the version read (None: there was no state). Raises StaleState when the stored
    version is not that one any more (the session stays usable).
    """
    if len(flow) > FLOW_NAME_MAX:
        raise ValueError("flow name too long")
    table = ConversationState.__table__
    text = _encode(data)
    if expected_version is None:
        values = {"user_id": user_id, "flow": flow, "data": text, "version": 1, "updated_at": _now()}
        if not _insert_if_absent(session, values):
            raise StaleState(f"state of user {user_id} in {flow} appeared meanwhile")
        return 1
    result = session.execute(
        update(table)
        .where(table.c.user_id == user_id, table.c.flow == flow, table.c.version == expected_version)
        .values(data=text, version=expected_version + 1, updated_at=_now())
    )
    if result.rowcount != 1:
        raise StaleState(f"state of user {user_id} in {flow} changed meanwhile")
    return expected_version + 1


def clear_state(user_id: int, flow: str | None = None, *, session: Session) -> None:
    """Forget the user's state in `flow` (every flow when None)."""
    table = ConversationState.__table__
    condition = table.c.user_id == user_id
    if flow is not None:
        condition = condition & (table.c.flow == flow)
    session.execute(delete(table).where(condition))


def purge_states(older_than: timedelta, *, session: Session) -> int:
    """Delete states untouched for `older_than`; returns how many (a daily job keeps the table small)."""
    table = ConversationState.__table__
    return session.execute(delete(table).where(table.c.updated_at < _now() - older_than)).rowcount
