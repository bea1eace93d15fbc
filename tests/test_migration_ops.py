"""The revisions' column helper: `columns(name=type)` must make exactly the columns `sa.Column` would."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.schema import CreateTable

from db.migrations.ops import TZ, Col, chosen_key, columns, null


def test_columns_keep_the_order_given_and_are_not_null_unless_marked():
    made = columns(id=sa.Integer(), note=null(sa.String(20)), at=TZ)

    assert [c.name for c in made] == ["id", "note", "at"]
    assert [c.nullable for c in made] == [False, True, False]
    assert isinstance(made[1].type, sa.String) and made[1].type.length == 20
    assert made[2].type.timezone is True


def test_a_chosen_key_is_not_autoincremented_and_col_carries_server_defaults():
    key, counter, lang = columns(
        user_id=chosen_key(sa.BigInteger()), counter=Col(sa.Integer(), autoincrement=True),
        lang=Col(sa.String(8), server_default="zh"),
    )

    assert key.autoincrement is False and key.nullable is False
    assert counter.autoincrement is True
    assert lang.server_default.arg == "zh" and lang.nullable is False


def test_the_ddl_is_what_the_long_form_emits():
    """The short form is a way of writing, not another schema: both dialects get the same CREATE TABLE."""
    short = sa.Table(
        "t", sa.MetaData(),
        *columns(id=chosen_key(sa.BigInteger()), name=sa.String(64), seen=null(TZ),
                 flag=Col(sa.Boolean(), server_default=sa.true())),
        sa.PrimaryKeyConstraint("id"),
    )
    long = sa.Table(
        "t", sa.MetaData(),
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("flag", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    for dialect in (sa.dialects.sqlite.dialect(), sa.dialects.postgresql.dialect()):
        assert str(CreateTable(short).compile(dialect=dialect)) == str(CreateTable(long).compile(dialect=dialect))


def test_a_nullable_short_column_differs_from_a_not_null_one():
    """The comparison above can fail: NULL-ability shows in the DDL."""
    a = sa.Table("t", sa.MetaData(), *columns(x=sa.Integer()))
    b = sa.Table("t", sa.MetaData(), *columns(x=null(sa.Integer())))
    assert str(CreateTable(a)) != str(CreateTable(b))
