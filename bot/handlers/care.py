"""Find care nearby and book temporary care (/find, /bookings, locations). Placeholder until the flow lands."""

from __future__ import annotations

from telegram.ext import Application, CommandHandler

from bot.handlers.common import coming_soon


def register(application: Application) -> None:
    """Register this flow's handlers (before the catch-all handlers)."""
    for name in ("find", "bookings"):
        application.add_handler(CommandHandler(name, coming_soon))
