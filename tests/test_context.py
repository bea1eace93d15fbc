"""The typed context (bot/context.py): every handler gets a `BotContext` with the runtime, the user's language
(stored, else English when Telegram says so, else the default) and `db()`, one unit of work in a thread."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from telegram import Update
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.app import build_application
from bot.context import BotContext, guess_language
from tests.fakes.fixtures import FAKE_TOKEN

USER = 7301


@pytest.fixture
def app(settings, fake_bot_api):
    settings.telegram_base_url = fake_bot_api.base_url
    settings.telegram_base_file_url = fake_bot_api.base_file_url
    return build_application(settings, policy_service=object(), token=FAKE_TOKEN)


def _update(app, fake_bot_api, text_: str = "/help", *, user: int = USER, language_code: str | None = "zh"):
    fake_bot_api.api.user_sends_text(user, text_, language_code=language_code)
    return Update.de_json(fake_bot_api.api.updates_log[-1], app.bot)


async def _context_seen_by_a_handler(app, update) -> BotContext:
    """The context a handler registered after the screening step (which loads the language) receives."""
    seen: list = []

    async def capture(update, context) -> None:
        seen.append(context)
        raise ApplicationHandlerStop  # nothing else runs: no reply needed

    app.add_handler(TypeHandler(Update, capture), group=-50)
    await app.initialize()
    try:
        await app.process_update(update)
    finally:
        await app.shutdown()
    [context] = seen
    return context


@pytest.mark.parametrize(("language_code", "expected"), [("en", "en"), ("en-GB", "en"), ("zh-hans", "zh"),
                                                          ("de", "zh"), (None, "zh")])
async def test_every_handler_gets_a_bot_context(app, fake_bot_api, language_code, expected):
    """A user the bot does not know: English only if the Telegram app is in English, else the default."""
    context = await _context_seen_by_a_handler(app, _update(app, fake_bot_api, language_code=language_code))
    assert type(context) is BotContext
    assert context.runtime is app.bot_data["runtime"]
    assert context.telegram_language_code == language_code
    assert context.language == expected


async def test_the_stored_language_wins_over_telegrams(app, fake_bot_api):
    update = _update(app, fake_bot_api, language_code="en")
    context = BotContext.from_update(update, app)
    assert context.language == "en"
    context.user_data["lang"] = "zh"  # what `load_user_language` stores for a user who chose 中文
    assert context.language == "zh"


def test_default_language_setting_and_updates_without_a_user(app):
    assert guess_language(None, "en") == "en" and guess_language("fr", "en") == "en"
    assert guess_language("en-US", "zh") == "en"
    app.bot_data["runtime"].settings.default_language = "en"
    assert BotContext(app, user_id=USER).language == "en"
    assert BotContext(app).language == "zh", "no user (a channel post): the default reply language"


async def test_db_is_one_unit_of_work_in_a_worker_thread(app):
    engine = app.bot_data["runtime"].engine
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE scratch (n INTEGER)"))
    context = BotContext(app, user_id=USER)
    loop_thread = threading.get_ident()

    def add(n: int, *, session, fail: bool = False) -> int:
        assert threading.get_ident() != loop_thread, "never on the event loop"
        session.execute(text("INSERT INTO scratch (n) VALUES (:n)"), {"n": n})
        session.execute(text("INSERT INTO scratch (n) VALUES (:n)"), {"n": n + 1})
        if fail:
            raise ValueError("boom")
        return n

    assert await context.db(add, 1) == 1
    with pytest.raises(ValueError, match="boom"):
        await context.db(add, 10, fail=True)
    with engine.connect() as conn:
        rows = [n for (n,) in conn.execute(text("SELECT n FROM scratch ORDER BY n"))]
    assert rows == [1, 2], "committed on success; both rows of the failed unit rolled back"
