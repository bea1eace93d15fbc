"""End to end: the real python-telegram-bot Application polling a fake Bot API server over HTTP;
a scripted user asks policy questions and the test reads what the bot sent."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.console_transport import running_application
from bot.local_api import application_is_busy
from tests.e2e_harness import say, settle

USER = 4242


async def _say(api, app, text: str):
    """Send `text` as the user and wait until the bot has fully reacted; returns its new messages."""
    return await say(api, app, USER, text)


async def _tap(api, app, message_id: int, data: str):
    """Tap a button of the bot's message and wait until the bot has fully reacted; returns its new messages."""
    since = api.seq
    api.user_taps_button(USER, message_id, data)
    return await settle(api, app, USER, since)


@pytest.fixture
async def running_bot(fake_bot_api, make_app) -> AsyncIterator[tuple]:
    """(the fake Bot API, the bot's Application on it), the application running for the whole test."""
    app = make_app(fake_bot_api)
    async with running_application(app):
        yield fake_bot_api.api, app


async def test_start_help_and_role_choice(running_bot):
    api, app = running_bot
    [greeting] = await _say(api, app, "/start")
    assert "托育助手" in greeting.text and "请问您是" in greeting.text
    assert greeting.button_texts == ["我是家长", "我是托育机构经营者", "🔔 政策更新提醒"]
    assert any("/filing" in m.text for m in await _tap(api, app, greeting.message_id, "role:operator"))
    assert api.callback_answers, "the button tap was answered"
    [help_text] = await _say(api, app, "/help")
    assert "/find" in help_text.text and "/lang" in help_text.text
    commands = [c for c in api.calls if c[0] == "setMyCommands"]
    assert commands, "the command menu was set"


async def test_question_is_answered_with_quote_source_and_full_passage(running_bot):
    api, app = running_bot
    [answer] = await _say(api, app, "张家港困境婴幼儿入托能减免多少费用？")
    assert answer.text.startswith("答：500元/人/月"), "the fact comes first"
    assert "出处：《张家港市普惠托育服务发展示范项目工作方案》" in answer.text
    assert "减免500元/人/月" in answer.text
    assert answer.button_texts and answer.button_texts[0] == "原文 1"

    [passage] = await _tap(api, app, answer.message_id, answer.callback_data("原文 1"))
    assert "张家港市人民政府办公室" in passage.text and "2024-09-27" in passage.text

    [follow] = await _say(api, app, "那厦门呢？")
    assert "厦门" in follow.text


async def test_refusals_and_bad_input(running_bot):
    api, app = running_bot
    [weather] = await _say(api, app, "今天天气怎么样？")
    assert "不在我能回答的范围内" in weather.text and "托育助手" in weather.text and not weather.buttons
    [port] = await _say(api, app, "北仑港的集装箱吞吐量是多少？")
    assert "不在我能回答的范围内" in port.text and not port.buttons, "no 'follow 北仑' under an off-topic reply"
    [shenzhen] = await _say(api, app, "深圳的普惠托育补贴每月多少钱？")
    assert "没有深圳的政策文件" in shenzhen.text
    [unknown] = await _say(api, app, "/frobnicate")
    assert "没有这个命令" in unknown.text
    replies = await _say(api, app, "<b>托位</b> & " + "普惠托育 " * 2000)
    assert replies and all(len(m.raw_text or m.text) <= 4096 for m in replies)
    assert "太长" in replies[0].text
    since = api.seq
    for forged in ("src:nope:0000", "src:xiamen:-1", "src:xiamen:abc", "src:" + "9" * 500, "src:"):
        api.user_taps_button(USER, replies[-1].message_id, forged, stale_ok=True)
        await api.wait_until_idle(busy=lambda: application_is_busy(app))
        assert api.callback_answers[-1].text == "这个按钮已失效，请重新操作。", forged
    api.user_taps_button(USER, replies[-1].message_id, "src:nope:1", stale_ok=True)
    await api.wait_until_idle(busy=lambda: application_is_busy(app))
    assert api.callback_answers[-1].text == "这段原文已更新或下线，请重新提问。"
    assert api.changes_since(since, USER) == []


async def test_english_user_and_language_switch(running_bot):
    api, app = running_bot
    [answer] = await _say(api, app, "What fee reduction do children in difficult circumstances get in Zhangjiagang?")
    assert answer.text.startswith("Answer: 500 yuan per child per month"), "an English gist first"
    assert "500元/人/月" in answer.text and "Source: 《" in answer.text
    [menu] = await _say(api, app, "/lang")
    api.user_taps_button(USER, menu.message_id, "lang:en")
    await api.wait_until_idle(busy=lambda: application_is_busy(app))
    assert api.last_message(USER).text == "Language set to English."
    [help_text] = await _say(api, app, "/help")
    assert "How to use" in help_text.text
