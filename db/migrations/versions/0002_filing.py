"""Filing cases (登记 → 备案): filing_cases, filing_items, filing_documents.

Tables are created only when missing, like 0001, so a database made by `create_all` is adopted.

Revision ID: 0002_filing
Revises: 0001_initial
Create Date: 2025-01-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_filing"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())

    if "filing_cases" not in existing:
        op.create_table(
            "filing_cases",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("operator_id", sa.BigInteger(), nullable=False),
            sa.Column("title", sa.String(length=120), nullable=False),
            sa.Column("city", sa.String(length=32), nullable=False),
            sa.Column("legal_nature", sa.String(length=32), nullable=False),
            sa.Column("step", sa.String(length=16), nullable=False),
            sa.Column("status", sa.String(length=12), nullable=False),
            sa.Column("current_item", sa.String(length=48), nullable=True),
            sa.Column("class_plan", sa.JSON(), nullable=False),
            sa.Column("created_at", TZ, nullable=False),
            sa.Column("updated_at", TZ, nullable=False),
            sa.Column("summary_sent_at", TZ, nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_filing_cases_operator_updated", "filing_cases", ["operator_id", "updated_at"])

    if "filing_items" not in existing:
        op.create_table(
            "filing_items",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("case_id", sa.Integer(), nullable=False),
            sa.Column("item_id", sa.String(length=48), nullable=False),
            sa.Column("status", sa.String(length=16), nullable=False),
            sa.Column("updated_at", TZ, nullable=False),
            sa.ForeignKeyConstraint(["case_id"], ["filing_cases.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("case_id", "item_id", name="uq_filing_items_case_item"),
        )

    if "filing_documents" not in existing:
        op.create_table(
            "filing_documents",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("case_id", sa.Integer(), nullable=False),
            sa.Column("item_id", sa.String(length=48), nullable=False),
            sa.Column("file_id", sa.String(length=255), nullable=False),
            sa.Column("file_unique_id", sa.String(length=128), nullable=False),
            sa.Column("file_name", sa.String(length=255), nullable=False),
            sa.Column("mime_type", sa.String(length=128), nullable=False),
            sa.Column("file_size", sa.BigInteger(), nullable=False),
            sa.Column("sha256", sa.String(length=64), nullable=False),
            sa.Column("uploaded_at", TZ, nullable=False),
            sa.ForeignKeyConstraint(["case_id"], ["filing_cases.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_filing_documents_case_item", "filing_documents", ["case_id", "item_id"])


def downgrade() -> None:
    op.drop_table("filing_documents")
    op.drop_table("filing_items")
    op.drop_table("filing_cases")
