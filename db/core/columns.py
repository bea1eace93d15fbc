"""Column shapes several tables share: foreign keys to a parent row and timezone-aware timestamps."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, DateTime, ForeignKey, Integer
from sqlmodel import Field


def parent_key(target: str) -> Any:
    """A required integer foreign key to `target` ("table.id"): the row is deleted with its parent. Declared
    without a Column object of its own, so a field group (a non-table base class) can hold it for several tables."""
    return Field(foreign_key=target, ondelete="CASCADE")


def optional_key(target: str) -> Any:
    """An optional integer foreign key to `target` ("table.id"), set to NULL when that row is deleted."""
    return Field(default=None, sa_column=Column(Integer, ForeignKey(target, ondelete="SET NULL"), nullable=True))


def aware_datetime(*, nullable: bool = False, **field: Any) -> Any:
    """A timezone-aware timestamp column; `field` holds the Field's default or default_factory."""
    return Field(**field, sa_column=Column(DateTime(timezone=True), nullable=nullable))
