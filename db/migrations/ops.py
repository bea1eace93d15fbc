"""What the revisions share: the timezone-aware timestamp type, and "create this table, then its indexes,
unless the database already holds it".

Why "unless it holds it": a database made by `SQLModel.metadata.create_all` (before alembic was used, or by a
tool) already has some or all of the tables; creating only the missing ones brings it under alembic without
losing its rows.

These helpers are FROZEN once a revision uses them. A revision is applied history: replaying it on a fresh
database must emit exactly the statements it emitted the first time, in the same order. Never change what a
helper here emits (types, defaults, arguments, order); a different behaviour is a NEW helper, used by new
revisions only, and the old revisions keep calling the old one.

Use: `existing = existing_tables()` once at the start of `upgrade()`, then one
`create_table_if_missing(existing, "notes", *columns(id=sa.Integer(), at=TZ, text=null(sa.Text())),
sa.PrimaryKeyConstraint("id"), indexes=[Index("ix_notes_at", ["at"])])` per table (0001_initial shows several
tables, 0008_policy_alerts a table seeded only when it was created).

Columns are written `name=type`, in table order, several to a line where they belong together: the schema
reads as a schema, not as a column of `sa.Column(..., nullable=False)` calls. A column is NOT NULL unless its
type is wrapped in `null(...)`; `Col` states anything else (autoincrement, a server default).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from alembic import op

TZ = sa.DateTime(timezone=True)
"""The type of every time column: a timezone-aware timestamp."""


@dataclass(frozen=True)
class Col:
    """A column's type and what differs from a NOT NULL column with SQLAlchemy's defaults."""

    type: sa.types.TypeEngine
    nullable: bool = False
    autoincrement: bool | Literal["auto"] = "auto"
    server_default: Any = None


def null(column_type: sa.types.TypeEngine) -> Col:
    """A column that may hold NULL."""
    return Col(column_type, nullable=True)


def chosen_key(column_type: sa.types.TypeEngine) -> Col:
    """A key column whose values the application chooses (a Telegram id, a generation): no autoincrement."""
    return Col(column_type, autoincrement=False)


def columns(**types: sa.types.TypeEngine | Col) -> list[sa.Column]:
    """The columns `name=type` in the order given; a bare type is NOT NULL, a `Col` says what else it is."""
    made = []
    for name, spec in types.items():
        col = spec if isinstance(spec, Col) else Col(spec)
        made.append(
            sa.Column(
                name,
                col.type,
                autoincrement=col.autoincrement,
                server_default=col.server_default,
                nullable=col.nullable,
            )
        )
    return made


def existing_tables() -> set[str]:
    """The tables the database holds, read once at the start of a revision's upgrade."""
    return set(sa.inspect(op.get_bind()).get_table_names())


@dataclass(frozen=True)
class Index:
    """An index created right after its table: `Index("ix_t_a_b", ["a", "b"])`.

    `where` makes it partial, with one condition for SQLite and PostgreSQL (e.g. unique among active rows).
    """

    name: str
    columns: Sequence[str]
    unique: bool = False
    where: sa.TextClause | None = None


def create_table_if_missing(
    existing: set[str], name: str, *elements: sa.SchemaItem, indexes: Sequence[Index] = ()
) -> bool:
    """Create table `name` from `elements` (columns, then constraints), then `indexes` in their order.

    Nothing happens when `existing` (see `existing_tables`) holds the table already. Returns whether the table
    was created, so that a revision seeds rows only into a table it has just made.
    """
    if name in existing:
        return False
    op.create_table(name, *elements)
    for index in indexes:
        where = {} if index.where is None else {"sqlite_where": index.where, "postgresql_where": index.where}
        op.create_index(index.name, name, list(index.columns), unique=index.unique, **where)
    return True
