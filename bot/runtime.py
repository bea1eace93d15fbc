"""The start of every update: the user's language and flow states, read from the database in one hop."""

from __future__ import annotations

from sqlmodel import Session
from telegram import Update

from bot.context import BotContext, guess_language
from bot.state import current_prefetch
from db.accounts import users
from db.core.conversation import load_states
from db.core.engine import is_database_unavailable


def _read_user(user_id: int, *, session: Session) -> tuple[str | None, dict]:
    """The user's stored language (None: unknown user) and every flow's state, in one unit of work."""
    return users.stored_language(user_id, session=session), load_states(user_id, session=session)


async def load_user_language(update: Update, context: BotContext) -> str:
    """Read the user's stored language from the database (in a worker thread) at the start of each update,
    so a change made through another worker is honoured; `context.language` then answers from memory.

    Within an update processed by `bot.update_processor` the same read (one thread hop, one connection) also
    fetches the user's conversation states for the flows' handlers that follow (`bot.state.UpdatePrefetch`)."""
    user = update.effective_user
    if user is None or context.user_data is None:
        return "zh"
    guess = guess_language(user.language_code, context.runtime.settings.default_language)
    holder = current_prefetch()
    try:
        if holder is None:
            language = await context.db(users.get_language, user.id, guess)
        else:
            stored, states = await context.db(_read_user, user.id)
            holder.fill(context.runtime.engine, user.id, states)
            holder.user_known = stored is not None
            language = guess if stored is None else stored
    except Exception as error:
        if not is_database_unavailable(error):
            raise
        # The database is away: a turn that needs nothing else from it (/help) still gets its answer, in the
        # language this worker last saw; a turn that does need it gets "busy" from the error handler.
        return context.user_data.setdefault("lang", guess)
    context.user_data["lang"] = language
    return language
