"""SQLModel tables for the knowledge base staff keep current (issue 5): the documents registry and the
audit log (`db.core.audit`).

`KnowledgeDocument` has one row per version of a policy document. `doc_id` is the stable name staff use
(`kb replace DOC_ID FILE`); `index_id` is the document's id in the chunk store (the doc_id itself for a
first version, `{doc_id}-v{n}` after that). The five catalog documents (knowledge/policies) get rows too,
so they can be replaced and retired like any other. Every change is recorded in the audit log
(`db.core.audit.AuditEntry`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = [
    "DOCUMENT_STATUSES",
    "KnowledgeDocument",
]

#: draft: uploaded, not answering yet · published: answering · retired: taken out of answers, kept ·
#: replaced: a newer version answers instead, kept · discarded: a draft staff threw away.
DOCUMENT_STATUSES = ("draft", "published", "retired", "replaced", "discarded")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class KnowledgeDocument(SQLModel, table=True):
    """One version of a policy document, with its metadata, file and ingest report."""

    __tablename__ = "knowledge_documents"
    __table_args__ = (
        UniqueConstraint("doc_id", "version", name="uq_knowledge_documents_doc_version"),
        UniqueConstraint("index_id", name="uq_knowledge_documents_index_id"),
        Index("ix_knowledge_documents_status", "status"),
        Index("ix_knowledge_documents_content_hash", "content_hash"),
    )

    id: int | None = Field(default=None, primary_key=True)
    doc_id: str = Field(max_length=48)
    version: int = Field(default=1)
    index_id: str = Field(max_length=56)
    origin: str = Field(default="staff", max_length=12)  # catalog | staff
    status: str = Field(default="draft", max_length=12)  # see DOCUMENT_STATUSES
    title: str = Field(default="", max_length=200)
    city: str = Field(default="", max_length=32)
    province: str = Field(default="", max_length=32)
    issuer: str = Field(default="", max_length=120)
    date: str = Field(default="", max_length=10)  # YYYY-MM-DD or ""
    doc_number: str = Field(default="", max_length=64)
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    #: sha256 of the file as uploaded, and of its text after cleaning (to catch the same text re-encoded).
    content_hash: str = Field(default="", max_length=64)
    text_hash: str = Field(default="", max_length=64)
    #: The raw file: relative to the knowledge-base directory under the data dir (staff), or to
    #: knowledge/policies (catalog).
    file_path: str = Field(default="", max_length=255)
    file_name: str = Field(default="", max_length=255)
    file_kind: str = Field(default="", max_length=8)  # text | html | pdf | docx
    file_size: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    sections: int = Field(default=0)
    chunks: int = Field(default=0)
    #: What cleaning removed: {"counts": {kind: n}, "items": [{"kind", "text", "line"}…]} (items capped).
    cleaning: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    #: Suspicious text that was kept out of the index: [{"kind": "injection"|"advert", "text", "line"}].
    flags: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    #: For a new version: the index_id of the version it replaces once published.
    replaces: str | None = Field(default=None, max_length=56)
    created_by: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=_utcnow)
    updated_at: datetime = Field(default_factory=_utcnow)
    published_at: datetime | None = Field(default=None)
