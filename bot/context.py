"""The typed context every handler receives: `context.runtime` (settings, engine, policy service),
`context.language` (the user's language for this update) and `context.db(work)` (one unit of work in a
worker thread). Registered once in `bot.app` through `ContextTypes(context=BotContext)`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy.engine import Engine
from telegram import Update
from telegram.ext import CallbackContext, ExtBot

from bot.settings import Settings
from db.core.engine import run_unit

T = TypeVar("T")


@dataclass
class Runtime:
    """Process-wide services, kept in `application.bot_data["runtime"]`: settings, the database engine, the
    policy service (loaded in the background; `policy_ready` is set once it is)."""

    settings: Settings
    engine: Engine
    policy: object | None = None  # retrieval.service.PolicyService, once loaded
    policy_ready: asyncio.Event = field(default_factory=asyncio.Event)


async def unit_of_work(engine: Engine, work: Callable[..., T], /, *args, **kwargs) -> T:
    """`work(*args, session=…, **kwargs)` in a worker thread as one unit of work (`db.core.engine.run_unit`), for
    the jobs and senders that hold the engine rather than a handler's context."""
    return await asyncio.to_thread(run_unit, engine, work, *args, **kwargs)


class BotContext(CallbackContext[ExtBot, dict, dict, dict]):
    """`CallbackContext` with the bot's runtime and the user's language as attributes."""

    def __init__(self, application, chat_id: int | None = None, user_id: int | None = None) -> None:
        super().__init__(application, chat_id=chat_id, user_id=user_id)
        self.telegram_language_code: str | None = None  # what the user's Telegram app says, if any

    @classmethod
    def from_update(cls, update: object, application) -> BotContext:
        """The context of one update; remembers the language the user's Telegram app reports."""
        context = super().from_update(update, application)
        if isinstance(update, Update) and update.effective_user is not None:
            context.telegram_language_code = update.effective_user.language_code
        return context

    @property
    def runtime(self) -> Runtime:
        """Process-wide services (`bot.runtime.Runtime`)."""
        return self.application.bot_data["runtime"]

    @property
    def language(self) -> str:
        """The user's language as loaded for this update (never blocks: no database access here). A user
        the bot does not know yet gets English only if their Telegram app is in English."""
        if self._user_id is None:
            return "zh"
        cache = self.user_data if self.user_data is not None else {}
        stored = cache.get("lang")
        if stored:
            return stored
        return guess_language(self.telegram_language_code, self.runtime.settings.default_language)

    async def db(self, work: Callable[..., T], /, *args, **kwargs) -> T:
        """Run `work(*args, session=…, **kwargs)` in a worker thread as one unit of work: it commits when
        `work` returns, and rolls back when it raises."""

        return await unit_of_work(self.runtime.engine, work, *args, **kwargs)


def guess_language(language_code: str | None, default: str) -> str:
    """English only if Telegram says the user's app is in English; otherwise the configured default."""
    return "en" if (language_code or "").startswith("en") else default
