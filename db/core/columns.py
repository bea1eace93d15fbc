"""Column shapes several tables share: foreign keys to a parent row, timezone-aware timestamps, partial unique
indexes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, text
from sqlmodel import Field


def parent_key(target: str) -> Any:
    """A required integer foreign key to `target` ("table.id"): the row is deleted with its parent. Annotate it
    `int` (NOT NULL). Declared without a Column object of its own, so a field group (a non-table base class) can
    hold it for several tables."""
    return Field(foreign_key=target, ondelete="CASCADE", nullable=False)


def optional_key(target: str) -> Any:
    """An optional integer foreign key to `target` ("table.id"), set to NULL when that row is deleted."""
    return Field(default=None, sa_column=Column(Integer, ForeignKey(target, ondelete="SET NULL"), nullable=True))


def aware_datetime(*, nullable: bool = False, **field: Any) -> Any:
    """A timezone-aware timestamp column; `field` holds the Field's default or default_factory."""
    return Field(**field, sa_column=Column(DateTime(timezone=True), nullable=nullable))


def partial_unique_index(name: str, *columns: str, where: str) -> Index:
    """A unique index over `columns` of the rows where the SQL condition `where` holds, on SQLite and PostgreSQL."""
    return Index(name, *columns, unique=True, sqlite_where=text(where), postgresql_where=text(where))
