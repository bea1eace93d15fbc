"""End to end: updates a real Telegram sends but a happy-path test never does — a channel post (no user),
a button of an inline message (no message), text with a lone surrogate, a personal command in a group —
reach the real python-telegram-bot stack over HTTP; none may reach the error handler."""

from __future__ import annotations

import pytest

from bot.app import build_application
from bot.console_transport import running_application
from bot.local_api import application_is_busy
from tests.fakes.fixtures import FAKE_TOKEN, fake_bot_api  # noqa: F401

USER = 5151
GROUP = -100777
CHANNEL = -100888


@pytest.fixture
def make_app(settings, policy_service):
    def make(server):
        settings.telegram_base_url = server.base_url
        settings.telegram_base_file_url = server.base_file_url
        app = build_application(settings, policy_service=policy_service, token=FAKE_TOKEN)
        app.bot_data["errors"] = errors = []

        async def spy(update, context):
            errors.append(repr(context.error))

        app.add_error_handler(spy)
        return app

    return make


async def _settle(api, app) -> None:
    await api.wait_until_idle(busy=lambda: application_is_busy(app))


async def test_channel_posts_are_ignored_without_error(fake_bot_api, make_app):  # noqa: F811
    api = fake_bot_api.api
    app = make_app(fake_bot_api)
    async with running_application(app):
        for text in ("/start", "/bookings", "/kb", "/filing", "/find", "张家港困境婴幼儿能减免多少？", "/grant 1"):
            api.channel_posts_text(CHANNEL, text)
        await _settle(api, app)
        assert app.bot_data["errors"] == []
        assert api.messages_to(CHANNEL) == []


@pytest.mark.parametrize(
    "data",
    ["care:inst:1", "care:page:0", "care:set:age:12", "fl:go", "kb:list:0", "src:1:0", "role:parent", "lang:en", "", "zz"],
)
async def test_button_without_a_message_gets_an_answer(fake_bot_api, make_app, data):  # noqa: F811
    api = fake_bot_api.api
    app = make_app(fake_bot_api)
    async with running_application(app):
        api.user_taps_inline_message_button(USER, data)
        await _settle(api, app)
        assert app.bot_data["errors"] == []
        assert api.callback_answers, "the tap was answered (the client stops its spinner)"


async def test_lone_surrogates_and_odd_text_get_a_reply(fake_bot_api, make_app):  # noqa: F811
    api = fake_bot_api.api
    app = make_app(fake_bot_api)
    async with running_application(app):
        texts = ["\ud800", "张家港\udfff托育补贴多少？", "/find", "\ud83d杨舍", "\u202e\u0000\ufeff", "/start \udc80"]
        for text in texts:
            since = api.seq
            api.user_sends_text(USER, text)
            await _settle(api, app)
            assert api.changes_since(since, USER), f"no reply to {text!r}"
        assert app.bot_data["errors"] == []


@pytest.mark.parametrize("command", ["/bookings", "/filing", "/kb"])
async def test_personal_commands_stay_out_of_groups(fake_bot_api, make_app, command):  # noqa: F811
    api = fake_bot_api.api
    app = make_app(fake_bot_api)
    async with running_application(app):
        api.user_sends_text_in_group(USER, GROUP, command)
        await _settle(api, app)
        assert app.bot_data["errors"] == []
        [reply] = api.messages_to(GROUP)
        assert "私聊" in reply.text
        assert api.messages_to(USER) == []
