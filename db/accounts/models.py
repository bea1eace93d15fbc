"""The users table."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Timezone-aware now, for created/updated columns."""
    return datetime.now(UTC)


class User(SQLModel, table=True):
    """A Telegram user of the bot, with preferred language and role."""

    __tablename__ = "users"

    telegram_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    language: str = Field(default="zh", max_length=8)
    role: str = Field(default="parent", max_length=16)  # parent | operator | staff | admin
    kind: str = Field(default="", max_length=16)  # what the user said they are on /start: parent | operator
    display_name: str = Field(default="", max_length=128)
    created_at: datetime = Field(default_factory=utcnow)
