"""Knowledge base: the documents registry (knowledge_documents) and the audit log (audit_log)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.migrations.ops import TZ, Index, columns, create_table_if_missing, existing_tables, null

revision = "0003_knowledge"
down_revision = "0002_filing"


def upgrade() -> None:
    existing = existing_tables()

    create_table_if_missing(
        existing,
        "knowledge_documents",
        *columns(
            id=sa.Integer(), doc_id=sa.String(48), version=sa.Integer(), index_id=sa.String(56),
            origin=sa.String(12), status=sa.String(12),
            title=sa.String(200), city=sa.String(32), province=sa.String(32), issuer=sa.String(120),
            date=sa.String(10), doc_number=sa.String(64), aliases=sa.JSON(),
            content_hash=sa.String(64), text_hash=sa.String(64),
            file_path=sa.String(255), file_name=sa.String(255), file_kind=sa.String(8), file_size=sa.BigInteger(),
            sections=sa.Integer(), chunks=sa.Integer(), cleaning=sa.JSON(), flags=sa.JSON(),
            replaces=null(sa.String(56)), created_by=sa.String(64),
            created_at=TZ, updated_at=TZ, published_at=null(TZ),
        ),
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
        *columns(
            id=sa.Integer(), at=TZ, actor=sa.String(64), actor_id=null(sa.BigInteger()), action=sa.String(32),
            doc_id=null(sa.String(48)), version=null(sa.Integer()), content_hash=sa.String(64), detail=sa.Text(),
        ),
        sa.PrimaryKeyConstraint("id"),
        indexes=[
            Index("ix_audit_log_at", ["at"]),
            Index("ix_audit_log_doc", ["doc_id"]),
        ],
    )


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("knowledge_documents")
