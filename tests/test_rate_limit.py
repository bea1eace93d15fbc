"""Outgoing limits: the bot's AIORateLimiter waits out a 429 `retry_after` and sends again, through the
real Application and the fake Bot API over HTTP."""

from __future__ import annotations

import asyncio
import time

from telegram.ext import AIORateLimiter

from bot.app import build_application, make_rate_limiter
from bot.console_transport import running_application
from bot.local_api import application_is_busy
from tests.fakes.fixtures import FAKE_TOKEN

USER = 8801


def _app(settings, server):
    settings.telegram_base_url = server.base_url
    settings.telegram_base_file_url = server.base_file_url
    return build_application(settings, policy_service=object(), token=FAKE_TOKEN)


async def test_retry_after_is_honoured(settings, fake_bot_api):
    app = _app(settings, fake_bot_api)
    assert isinstance(app.bot.rate_limiter, AIORateLimiter)
    async with running_application(app, poll_timeout=0.2):
        fake_bot_api.fail_next("sendMessage", code=429, retry_after=1)
        started = time.monotonic()
        fake_bot_api.api.user_sends_text(USER, "/help")
        reply = await fake_bot_api.api.wait_for_bot(lambda m: m.chat_id == USER, timeout=10)
        elapsed = time.monotonic() - started
        await fake_bot_api.api.wait_until_idle(busy=lambda: application_is_busy(app))
    assert fake_bot_api.refused_calls == ["sendMessage"]
    assert reply.text and "/find" in reply.text
    assert elapsed >= 1.0, "the retry came before retry_after had passed"
    assert len(fake_bot_api.api.messages_to(USER)) == 1  # sent once, not twice


def test_limits_come_from_the_settings(settings):
    settings.telegram_rate_limit = 0
    settings.telegram_max_retries = 0
    limiter = make_rate_limiter(settings)
    assert limiter._base_limiter is None  # no overall limit when set to 0
    assert limiter._max_retries == 1  # at least one retry after a 429, whatever the setting
    settings.telegram_rate_limit = 30
    settings.telegram_max_retries = 5
    limiter = make_rate_limiter(settings)
    assert limiter._base_limiter is not None and limiter._base_limiter.max_rate == 30
    assert limiter._max_retries == 5


async def test_a_chat_action_does_not_wait_behind_a_burst_of_messages(settings):
    """With 1 message per second allowed, four messages take ~3 s; "typing…" sent meanwhile goes out at once."""
    settings.telegram_rate_limit = 1
    limiter = make_rate_limiter(settings)
    await limiter.initialize()
    sent: list[tuple[str, float]] = []
    started = time.monotonic()

    def call(endpoint):
        async def send(*args, **kwargs):
            sent.append((endpoint, time.monotonic() - started))
            return True

        return limiter.process_request(send, (), {}, endpoint, {"chat_id": USER}, None)

    messages = [asyncio.create_task(call("sendMessage")) for _ in range(4)]
    await asyncio.sleep(0.2)
    await call("sendChatAction")
    action_at = dict(sent)["sendChatAction"]
    await asyncio.gather(*messages)
    await limiter.shutdown()
    assert action_at < 1.0, f"the chat action waited {action_at:.1f} s behind the messages"
    assert max(t for endpoint, t in sent if endpoint == "sendMessage") >= 2.0, "the messages were not limited"
