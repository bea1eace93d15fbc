"""The knowledge base's change log (kb_changes): one row per change to what answers questions.

Every publish, replacement, retirement, restore and re-index appends a row after the chunk store has been
changed. The row's id is the knowledge base's *generation*: a worker that answers from generation 41 and
sees 43 in the database re-reads only the documents of changes 42 and 43 (see `PolicyService.sync`), so a
change made through one worker or the CLI is answered from by every worker within seconds, without a
restart. Policy-change alerts read the same log to tell followers what changed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from sqlalchemy import Boolean, Column, Index, Integer, String, func, select, true
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel

from db.core.columns import aware_datetime
from db.core.engine import session_scope

#: publish · replace · retire · restore · reindex (a whole-store rebuild: every worker reloads)
CHANGE_ACTIONS = ("publish", "replace", "retire", "restore", "reindex")
REINDEX = "reindex"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class KnowledgeChange(SQLModel, table=True):
    """One change to the answering documents; `id` is the generation it brings the knowledge base to."""

    __tablename__ = "kb_changes"
    __table_args__ = (Index("ix_kb_changes_doc", "doc_id"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    action: str = Field(sa_column=Column(String(16), nullable=False))
    #: The document (staff name) and the chunk-store id of the version the change concerns; empty for reindex.
    doc_id: str = Field(default="", sa_column=Column(String(48), nullable=False))
    index_id: str = Field(default="", sa_column=Column(String(56), nullable=False))
    #: For a replacement or a restore over a newer version: the version that stopped answering.
    previous_index_id: str | None = Field(default=None, sa_column=Column(String(56), nullable=True))
    #: False when staff published silently (no policy-change alert).
    notify: bool = Field(default=True, sa_column=Column(Boolean, nullable=False, server_default=true()))
    at: datetime = aware_datetime(default_factory=_utcnow)


@dataclass(frozen=True)
class Change:
    """A change as read back: its generation and what it touched."""

    generation: int
    action: str
    doc_id: str
    index_id: str
    previous_index_id: str | None
    notify: bool
    at: datetime

    @property
    def index_ids(self) -> list[str]:
        """Every chunk-store document whose passages this change made answer or stop answering."""
        return [i for i in (self.index_id, self.previous_index_id) if i]


@dataclass(frozen=True)
class NewChange:
    """A change to append (the columns of `KnowledgeChange`): the action, the document and chunk-store version
    it concerns (empty for a reindex), the version that stopped answering, whether followers are alerted."""

    action: str
    doc_id: str = ""
    index_id: str = ""
    previous_index_id: str | None = None
    notify: bool = True


def record_change(change: NewChange, *, session: Session) -> int:
    """Append a change in the caller's unit of work; returns its generation."""
    if change.action not in CHANGE_ACTIONS:
        raise ValueError(f"unknown knowledge-base change {change.action!r}")
    row = KnowledgeChange(**asdict(change))
    session.add(row)
    session.flush()
    return int(row.id)


def current_generation(*, session: Session) -> int:
    """The newest generation (0 before any change)."""
    table = KnowledgeChange.__table__
    return int(session.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one())


def changes_since(generation: int, *, session: Session, limit: int = 1000) -> list[Change]:
    """The changes after `generation`, oldest first (at most `limit`)."""
    table = KnowledgeChange.__table__
    query = select(table).where(table.c.id > generation).order_by(table.c.id).limit(limit)
    rows = session.execute(query).all()
    return [
        Change(r.id, r.action, r.doc_id, r.index_id, r.previous_index_id, bool(r.notify), r.at) for r in rows
    ]


#: More documents changed than this since a worker's generation: it re-reads everything instead.
MAX_INCREMENTAL_DOCUMENTS = 200


class ChangeLog:
    """The change log as a worker's policy service follows it (`retrieval.service.ChangeFeed`); each call is
    one short unit of work of its own (the service runs outside any caller's transaction)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def current(self) -> int:
        """The newest generation."""
        with session_scope(self.engine) as session:
            return current_generation(session=session)

    def since(self, generation: int) -> tuple[int, list[str] | None]:
        """(newest generation, chunk-store ids changed after `generation`); None for the ids when a re-index
        happened or too many documents changed."""
        with session_scope(self.engine) as session:
            changes = changes_since(generation, session=session, limit=MAX_INCREMENTAL_DOCUMENTS + 1)
            newest = current_generation(session=session) if changes else generation
        if not changes:
            return generation, []
        if len(changes) > MAX_INCREMENTAL_DOCUMENTS or any(c.action == REINDEX for c in changes):
            return max(changes[-1].generation, newest), None
        ids = [index_id for change in changes for index_id in change.index_ids]
        return changes[-1].generation, list(dict.fromkeys(ids))
