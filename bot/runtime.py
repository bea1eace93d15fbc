"""What the handlers share at run time, kept in `application.bot_data`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from telegram import Update
from telegram.ext import ContextTypes

from bot.settings import Settings
from db import users


@dataclass
class Runtime:
    """Process-wide services: settings, database engine, the policy service (loaded in the background)."""

    settings: Settings
    engine: Engine
    policy: object | None = None  # retrieval.service.PolicyService, once loaded
    policy_ready: asyncio.Event = field(default_factory=asyncio.Event)


def runtime(context: ContextTypes.DEFAULT_TYPE) -> Runtime:
    """The runtime of the running application."""
    return context.application.bot_data["runtime"]


def user_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """The user's stored language; a new user gets English only if Telegram says their app is in English."""
    user = update.effective_user
    if user is None:
        return "zh"
    cache = context.user_data if context.user_data is not None else {}
    if "lang" not in cache:
        guess = "en" if (user.language_code or "").startswith("en") else runtime(context).settings.default_language
        cache["lang"] = users.get_language(runtime(context).engine, user.id, default=guess)
    return cache["lang"]
