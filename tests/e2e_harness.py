"""Shared setup of the end-to-end tests that run the real Application against the fake Bot API with a freshly
built knowledge base: the `kb_service` fixture, an application factory, and the say / tap / settle steps of one
user. Import the fixture into a test module (`from tests.e2e_harness import kb_service  # noqa: F401`)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.app import build_application
from bot.local_api import application_is_busy
from bot.settings import KNOWLEDGE_DIR
from retrieval.service import PolicyService
from tests.fakes.fixtures import FAKE_TOKEN
from tests.kb_fixtures import caching

TIMEOUT = 20


@pytest.fixture
def kb_service(settings, embedder):
    """A policy service over the bundled knowledge base (embeddings cached across tests)."""
    service = PolicyService(settings.index_dir, KNOWLEDGE_DIR, embedder=caching(embedder))
    service.build()
    return service


def app_factory(settings, policy_service, admin: int) -> Callable:
    """`make(server)`: the bot's Application talking to the fake Bot API `server`, with `admin` as its admin."""
    settings.admin_user_ids = str(admin)

    def make(server):
        settings.telegram_base_url = server.base_url
        settings.telegram_base_file_url = server.base_file_url
        return build_application(settings, policy_service=policy_service, token=FAKE_TOKEN)

    return make


async def settle(api, app, user: int, since: int) -> list:
    """Wait for the bot's answer to `user` and for the application to go idle; what `user` saw since `since`."""
    await api.wait_for_bot(chat_id=user, since=since, timeout=TIMEOUT)
    await api.wait_until_idle(busy=lambda: application_is_busy(app), timeout=TIMEOUT)
    return api.changes_since(since, user)


async def say(api, app, user: int, text: str, **kwargs) -> list:
    """`user` sends `text`; the messages they got in answer."""
    since = api.seq
    api.user_sends_text(user, text, **kwargs)
    return await settle(api, app, user, since)


async def tap(api, app, user: int, message, text_contains: str) -> list:
    """`user` taps the button of `message` whose text contains `text_contains`; what changed for them."""
    since = api.seq
    api.user_taps_button(user, message.message_id, message.callback_data(text_contains))
    await api.wait_until_idle(busy=lambda: application_is_busy(app), timeout=TIMEOUT)
    return api.changes_since(since, user)


def latest_with(messages: list, text_contains: str):
    """The newest of `messages` whose text contains `text_contains`."""
    return next(m for m in reversed(messages) if text_contains in (m.text or ""))
