"""Test doubles for external services (a local Telegram Bot API server)."""

from .bot_api_server import FakeBotApiServer

__all__ = ["FakeBotApiServer"]
