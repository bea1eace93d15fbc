"""End to end: updates a real Telegram sends but a happy-path test never does — a channel post (no user),
a button of an inline message (no message), text with a lone surrogate, a personal command in a group —
reach the real python-telegram-bot stack over HTTP; none may reach the error handler."""

from __future__ import annotations

import random

import pytest

from bot.console_transport import running_application
from bot.local_api import application_is_busy
from tests.e2e_harness import app_factory

USER = 5151
GROUP = -100777
CHANNEL = -100888


@pytest.fixture
def make_app(settings, policy_service):
    return app_factory(settings, policy_service, spy_errors=True)


async def _settle(api, app) -> None:
    await api.wait_until_idle(busy=lambda: application_is_busy(app))


async def test_channel_posts_are_ignored_without_error(fake_bot_api, make_app):
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
async def test_button_without_a_message_gets_an_answer(fake_bot_api, make_app, data):
    api = fake_bot_api.api
    app = make_app(fake_bot_api)
    async with running_application(app):
        api.user_taps_inline_message_button(USER, data)
        await _settle(api, app)
        assert app.bot_data["errors"] == []
        assert api.callback_answers, "the tap was answered (the client stops its spinner)"


async def test_lone_surrogates_and_odd_text_get_a_reply(fake_bot_api, make_app):
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
async def test_personal_commands_stay_out_of_groups(fake_bot_api, make_app, command):
    api = fake_bot_api.api
    app = make_app(fake_bot_api)
    async with running_application(app):
        api.user_sends_text_in_group(USER, GROUP, command)
        await _settle(api, app)
        assert app.bot_data["errors"] == []
        [reply] = api.messages_to(GROUP)
        assert "私聊" in reply.text
        assert api.messages_to(USER) == []


def _html_like_texts(n: int, seed: int = 11) -> list[str]:
    """Typed text a parent or operator might send that looks like HTML to Telegram: tags (open, closed,
    unknown, unbalanced), entities (valid, invalid, numeric), bare < > &, mixed with Chinese."""
    rng = random.Random(seed)
    pieces = ["<b>", "</b>", "<i>", "</a>", '<a href="x">', "<tg-spoiler>", "<script>", "<<", ">>", "&", "&amp;",
              "&#0;", "&nbsp;", "&lt", "<br/>", "</", "<!--", "杨舍", "托育", "补贴", "A&B", "3<4", "x>y"]
    fixed = ["<阳光&宝贝> 托育点 </b>", "张家港困境婴幼儿能减免多少<b>？", "&"]
    return fixed + ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 5))) for _ in range(n)]


async def test_text_that_looks_like_html_is_answered_and_shown_as_typed(fake_bot_api, make_app):
    """Every reply is HTML: text the user typed must come back escaped wherever it is repeated, at every
    place the bot waits for typed text (a policy question, a care place, a filing institution name)."""
    api = fake_bot_api.api
    app = make_app(fake_bot_api)
    async with running_application(app):
        for n, text in enumerate(_html_like_texts(6)):
            user = USER + 100 + n
            since = api.seq
            api.user_sends_text(user, text)  # free text: a policy question
            await _settle(api, app)
            assert api.changes_since(since, user), f"no answer to {text!r}"

            api.user_sends_text(user, "/find")  # care: the bot waits for a place
            await _settle(api, app)
            since = api.seq
            api.user_sends_text(user, text)
            await _settle(api, app)
            assert api.changes_since(since, user), f"no reply to the place {text!r}"

            api.user_sends_text(user, "/filing")  # filing: name the institution
            await _settle(api, app)
            [natures] = api.messages_to(user)[-1:]
            api.user_taps_button(user, natures.message_id, _button_data(natures, "营利性"))
            await _settle(api, app)
            checklist = api.messages_to(user)[-1]
            api.user_taps_button(user, checklist.message_id, _button_data(checklist, "机构名称"))
            await _settle(api, app)
            since = api.seq
            api.user_sends_text(user, text)
            await _settle(api, app)
            named = [m for m in api.changes_since(since, user) if m.text]
            if text.strip():
                assert any(" ".join(text.split()) in m.text for m in named), (text, [m.text for m in named])
        assert app.bot_data["errors"] == []


def _button_data(message, label: str) -> str:
    return next(data for row in message.buttons for text, data in row if label in text)
