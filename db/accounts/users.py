"""Users: language preference and what they told us they are. Every function takes the caller's session."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from db.models import User

SUPPORTED_LANGUAGES = ("zh", "en")


def get_or_create_user(telegram_id: int, display_name: str = "", *, session: Session) -> User:
    """Return the user row, creating it with defaults on first contact."""
    user = session.get(User, telegram_id)
    if user is None:
        user = User(telegram_id=telegram_id, display_name=display_name[:128])
        session.add(user)
        session.flush()
    return user


def stored_language(telegram_id: int, *, session: Session) -> str | None:
    """The user's language (one indexed read, no ORM object), or None for an unknown user."""
    table = User.__table__
    row = session.execute(select(table.c.language).where(table.c.telegram_id == telegram_id)).first()
    return None if row is None else row.language


def get_language(telegram_id: int, default: str = "zh", *, session: Session) -> str:
    """The user's language, or `default` for an unknown user."""
    language = stored_language(telegram_id, session=session)
    return default if language is None else language


def ensure_user(telegram_id: int, display_name: str = "", *, session: Session) -> None:
    """Make sure the user row exists (`get_or_create_user` without returning it): a known user costs one
    indexed read, no ORM object."""
    if stored_language(telegram_id, session=session) is None:
        get_or_create_user(telegram_id, display_name, session=session)


def set_language(telegram_id: int, language: str, *, session: Session) -> None:
    """Store the user's language (`zh` or `en`)."""
    if language not in SUPPORTED_LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    get_or_create_user(telegram_id, session=session).language = language


def set_kind(telegram_id: int, kind: str, *, session: Session) -> None:
    """Remember whether the user said they are a parent or an operator."""
    get_or_create_user(telegram_id, session=session).kind = kind
