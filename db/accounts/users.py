"""Users: language preference and what they told us they are."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from db.core.engine import session_scope
from db.models import User

SUPPORTED_LANGUAGES = ("zh", "en")


def get_or_create_user(engine: Engine, telegram_id: int, display_name: str = "") -> User:
    """Return the user row, creating it with defaults on first contact."""
    with session_scope(engine) as session:
        user = session.get(User, telegram_id)
        if user is None:
            user = User(telegram_id=telegram_id, display_name=display_name[:128])
            session.add(user)
        return user


def stored_language(conn: Connection, telegram_id: int) -> str | None:
    """The user's language on an open connection (one indexed read, no ORM), or None for an unknown user."""
    table = User.__table__
    row = conn.execute(select(table.c.language).where(table.c.telegram_id == telegram_id)).first()
    return None if row is None else row.language


def get_language(engine: Engine, telegram_id: int, default: str = "zh") -> str:
    """The user's language, or `default` for an unknown user."""
    with engine.connect() as conn:
        language = stored_language(conn, telegram_id)
    return default if language is None else language


def ensure_user(engine: Engine, telegram_id: int, display_name: str = "") -> None:
    """Make sure the user row exists (`get_or_create_user` without returning it): a known user costs one
    indexed read, no ORM session."""
    with engine.connect() as conn:
        known = stored_language(conn, telegram_id) is not None
    if not known:
        get_or_create_user(engine, telegram_id, display_name)


def set_language(engine: Engine, telegram_id: int, language: str) -> None:
    """Store the user's language (`zh` or `en`)."""
    if language not in SUPPORTED_LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    get_or_create_user(engine, telegram_id)
    with session_scope(engine) as session:
        user = session.get(User, telegram_id)
        user.language = language


def set_kind(engine: Engine, telegram_id: int, kind: str) -> None:
    """Remember whether the user said they are a parent or an operator."""
    get_or_create_user(engine, telegram_id)
    with session_scope(engine) as session:
        user = session.get(User, telegram_id)
        user.kind = kind
