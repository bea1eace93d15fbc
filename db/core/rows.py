"""Plain snapshots of database rows: the frozen dataclasses the domain hands out instead of ORM objects."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

T = TypeVar("T")


def from_row(cls: type[T], row: Any, **values: Any) -> T:
    """A `cls` dataclass: `values` as given, every other field read from `row`'s attribute of the same name (a
    field with a default that `row` does not have keeps its default; a field outside `__init__` is never
    copied). Name a field in `values` whenever the row's attribute of that name means something else."""
    copied = {
        f.name: getattr(row, f.name)
        for f in fields(cls)
        if f.init and f.name not in values and hasattr(row, f.name)
    }
    return cls(**copied, **values)
