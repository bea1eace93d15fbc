"""SQLModel tables for operators' filing cases (登记 → 备案, issue 4).

A `FilingCase` is one institution an operator is preparing to file; an operator may have several. Each
checklist item the operator has touched has one `FilingItem` row (status uploaded / ready / not_applicable);
an item without a row is still missing. Each uploaded file is a `FilingDocument` row holding the Telegram
file id and metadata — the bytes stay on Telegram.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from db.core.columns import parent_key

__all__ = [
    "FilingCase",
    "FilingDocument",
    "FilingItem",
]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class FilingCase(SQLModel, table=True):
    """One institution's way through 登记 → 备案, owned by one operator (Telegram user)."""

    __tablename__ = "filing_cases"
    __table_args__ = (Index("ix_filing_cases_operator_updated", "operator_id", "updated_at"),)

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    #: The operator's name for the institution ("" until given; shown as "机构 #id").
    title: str = Field(default="", max_length=120)
    city: str = Field(default="", max_length=32)
    #: Legal-nature id from knowledge/filing.yaml (e.g. "for_profit"); "" until chosen.
    legal_nature: str = Field(default="", max_length=32)
    #: Where the operator is: nature | checklist | done.
    step: str = Field(default="nature", max_length=16)
    #: open | closed (archived by the operator).
    status: str = Field(default="open", max_length=12)
    #: The item the operator last opened (an upload without a chosen item goes here).
    current_item: str | None = Field(default=None, max_length=48)
    #: The last readiness self-check input, parsed: [{"class_type", "children", "carers"}].
    class_plan: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=_utcnow)
    updated_at: datetime = Field(default_factory=_utcnow)
    summary_sent_at: datetime | None = Field(default=None)


class FilingItem(SQLModel, table=True):
    """The status of one checklist item in one case."""

    __tablename__ = "filing_items"
    __table_args__ = (UniqueConstraint("case_id", "item_id", name="uq_filing_items_case_item"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = parent_key("filing_cases.id")
    item_id: str = Field(max_length=48)
    status: str = Field(max_length=16)  # uploaded | ready | not_applicable
    updated_at: datetime = Field(default_factory=_utcnow)


class FilingDocument(SQLModel, table=True):
    """One file the operator uploaded for a checklist item (stored by Telegram file id)."""

    __tablename__ = "filing_documents"
    __table_args__ = (Index("ix_filing_documents_case_item", "case_id", "item_id"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = parent_key("filing_cases.id")
    item_id: str = Field(max_length=48)
    file_id: str = Field(max_length=255)
    file_unique_id: str = Field(default="", max_length=128)
    file_name: str = Field(default="", max_length=255)
    mime_type: str = Field(default="", max_length=128)
    file_size: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    sha256: str = Field(default="", max_length=64)
    uploaded_at: datetime = Field(default_factory=_utcnow)
