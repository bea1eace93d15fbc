"""Staff knowledge-base management (/kb, document uploads). Placeholder until the flow lands."""

from __future__ import annotations

from telegram.ext import Application, CommandHandler

from bot.handlers.common import coming_soon


def register(application: Application) -> None:
    """Register this flow's handlers (before the catch-all handlers)."""
    application.add_handler(CommandHandler("kb", coming_soon))
