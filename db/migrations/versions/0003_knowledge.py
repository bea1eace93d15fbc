"""Knowledge base: the documents registry (knowledge_documents) and the audit log (audit_log)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.migrations.ops import TZ, Index, create_table_if_missing, existing_tables

revision = "0003_knowledge"
down_revision = "0002_filing"


def upgrade() -> None:
    existing = existing_tables()

    create_table_if_missing(
        existing,
        "knowledge_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("doc_id", sa.String(length=48), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("index_id", sa.String(length=56), nullable=False),
        sa.Column("origin", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("city", sa.String(length=32), nullable=False),
        sa.Column("province", sa.String(length=32), nullable=False),
        sa.Column("issuer", sa.String(length=120), nullable=False),
        sa.Column("date", sa.String(length=10), nullable=False),
        sa.Column("doc_number", sa.String(length=64), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("file_path", sa.String(length=255), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_kind", sa.String(length=8), nullable=False),
        sa.Column("file_size", sa.BigInteger(), nullable=False),
        sa.Column("sections", sa.Integer(), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("cleaning", sa.JSON(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("replaces", sa.String(length=56), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("published_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("doc_id", "version", name="uq_knowledge_documents_doc_version"),
        sa.UniqueConstraint("index_id", name="uq_knowledge_documents_index_id"),
        indexes=[
            Index("ix_knowledge_documents_status", ["status"]),
            Index("ix_knowledge_documents_content_hash", ["content_hash"]),
        ],
    )

    create_table_if_missing(
        existing,
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("doc_id", sa.String(length=48), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        indexes=[
            Index("ix_audit_log_at", ["at"]),
            Index("ix_audit_log_doc", ["doc_id"]),
        ],
    )


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("knowledge_documents")
