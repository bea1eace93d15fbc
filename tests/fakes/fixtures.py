"""Pytest fixtures for end-to-end tests against the fake Telegram Bot API.

Registered as a pytest plugin in tests/conftest.py, so `fake_bot_api` and `local_bot_api` need no import.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.local_api import LocalBotApi
from tests.fakes.bot_api_server import FakeBotApiServer

FAKE_TOKEN = "123:ABC"


@pytest.fixture
def fake_bot_api() -> Iterator[FakeBotApiServer]:
    """A `FakeBotApiServer` on 127.0.0.1 for this test; `.api` is its `LocalBotApi`,
    `.base_url` / `.base_file_url` go to `ApplicationBuilder` (token e.g. `FAKE_TOKEN`)."""
    with FakeBotApiServer() as server:
        yield server


@pytest.fixture
def local_bot_api() -> LocalBotApi:
    """A fresh in-process `LocalBotApi` (use with `bot.console_transport.LocalRequest`)."""
    return LocalBotApi()
