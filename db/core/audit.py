"""The audit log: who changed what, when, on which document, with which content; refused attempts too.

Entries are written in the caller's session, so a change and its entry commit together:

    with session_scope(engine) as session:
        ...                                   # the change
        audit.record("tg:42", "grant", session=session, actor_id=42, detail="staff")
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import BigInteger, Column, Index, Text
from sqlmodel import Field, Session, SQLModel, select


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Actor:
    """Who acts: a Telegram user (`telegram_id`) or a command-line user (`cli_user`)."""

    telegram_id: int | None = None
    cli_user: str = ""

    @property
    def label(self) -> str:
        """`tg:<id>` or `cli:<login>`, as written in the audit log."""
        return (
            f"tg:{self.telegram_id}" if self.telegram_id is not None else f"cli:{self.cli_user or 'unknown'}"
        )


class AuditEntry(SQLModel, table=True):
    """One recorded change or refused attempt: who, when, what, on which document, with which content."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_doc", "doc_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=_utcnow)
    #: "tg:<telegram id>" for the bot, "cli:<login>" for the command line.
    actor: str = Field(max_length=64)
    actor_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    #: upload, publish, replace, retire, restore, discard, edit, reindex, reject, denied, grant, revoke,
    #: link_operator, unlink_operator
    action: str = Field(max_length=32)
    doc_id: str | None = Field(default=None, max_length=48)
    version: int | None = Field(default=None)
    content_hash: str = Field(default="", max_length=64)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False))


def record(  # noqa: PLR0913  (one entry's columns, all keyword-only but the two every entry has)
    actor: str,
    action: str,
    *,
    session: Session,
    actor_id: int | None = None,
    doc_id: str | None = None,
    version: int | None = None,
    content_hash: str = "",
    detail: str = "",
) -> AuditEntry:
    """Add one entry to the audit log in `session` (committed with the caller's change)."""
    entry = AuditEntry(
        actor=actor[:64],
        actor_id=actor_id,
        action=action[:32],
        doc_id=doc_id,
        version=version,
        content_hash=content_hash,
        detail=detail[:2000],
    )
    session.add(entry)
    return entry


def record_by(actor: Actor, action: str, *, session: Session, detail: str = "", **columns) -> AuditEntry:
    """`record` for an `Actor` (its label and Telegram id); `columns`: doc_id, version, content_hash."""
    return record(actor.label, action, session=session, actor_id=actor.telegram_id, detail=detail, **columns)


def entries(*, session: Session, doc_id: str | None = None, limit: int = 50) -> list[AuditEntry]:
    """The newest audit entries first, optionally about one document."""
    query = select(AuditEntry)
    if doc_id is not None:
        query = query.where(AuditEntry.doc_id == doc_id)
    return list(session.exec(query.order_by(AuditEntry.id.desc()).limit(limit)))
