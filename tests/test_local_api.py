"""The local Bot API emulator: a real python-telegram-bot Application against it, over HTTP (the
fake server, HTTPX underneath) and in-process (LocalRequest), plus Bot API semantics on their own."""

from __future__ import annotations

import asyncio
import threading

import httpx
import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.console_transport import LocalRequest, running_application
from bot.context import BotContext
from bot.local_api import BotApiError, LocalBotApi
from tests.fakes.bot_api_server import FakeBotApiServer

TOKEN = "123:ABC"
USER = 10001


def add_demo_handlers(app: Application) -> None:
    """A tiny bot: /start with an inline keyboard, a button that edits its message, echo,
    a document round trip, a venue for a location, and two deliberate Bot API mistakes."""

    async def start(update: Update, context: BotContext) -> None:
        keyboard = InlineKeyboardMarkup([
            [InlineKeyboardButton("显示原文", callback_data="show:1"), InlineKeyboardButton("下一页", callback_data="page:2")],
            [InlineKeyboardButton("官网", url="https://example.org/")],
        ])
        await update.message.reply_text("<b>欢迎</b> &lt;托育助手&gt;", parse_mode="HTML", reply_markup=keyboard)

    async def on_button(update: Update, context: BotContext) -> None:
        query = update.callback_query
        await query.answer("好的")
        await query.edit_message_text(f"你选择了 {query.data}")

    async def echo(update: Update, context: BotContext) -> None:
        await update.message.reply_text(f"echo: {update.message.text}", do_quote=True)

    async def on_document(update: Update, context: BotContext) -> None:
        document = update.message.document
        data = await (await document.get_file()).download_as_bytearray()
        context.bot_data["received"] = bytes(data)
        await update.message.reply_document(
            document=bytes(data), filename="回执-" + document.file_name, caption=f"收到 {len(data)} 字节"
        )

    async def on_location(update: Update, context: BotContext) -> None:
        loc = update.message.location
        await update.message.reply_venue(latitude=loc.latitude, longitude=loc.longitude, title="示范托育园",
                                         address="思明区 1 号")

    async def bad_html(update: Update, context: BotContext) -> None:
        try:
            await update.message.reply_text("价格 <1000 元", parse_mode="HTML")
        except BadRequest as exc:
            await update.message.reply_text(f"error: {exc.message}")

    async def too_long(update: Update, context: BotContext) -> None:
        try:
            await update.message.reply_text("长" * 4097)
        except BadRequest as exc:
            await update.message.reply_text(f"error: {exc.message}")

    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("bad", bad_html))
    app.add_handler(CommandHandler("long", too_long))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(filters.Document.ALL, on_document))
    app.add_handler(MessageHandler(filters.LOCATION, on_location))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))


@pytest.fixture(params=["http", "in_process"])
async def bot(request):
    """(LocalBotApi, running Application) — over the HTTP fake server or in-process."""
    server = None
    if request.param == "http":
        server = FakeBotApiServer().start()
        api = server.api
        builder = ApplicationBuilder().token(TOKEN).base_url(server.base_url).base_file_url(server.base_file_url)
    else:
        api = LocalBotApi()
        builder = ApplicationBuilder().token(TOKEN).request(LocalRequest(api)).get_updates_request(LocalRequest(api))
    app = builder.build()
    add_demo_handlers(app)
    try:
        async with running_application(app):
            yield api, app
    finally:
        if server is not None:
            server.stop()
    leftover = [t.name for t in threading.enumerate() if "process_request" in t.name or t.name == "fake-bot-api"]
    assert leftover == []


async def test_start_tap_edit_and_echo(bot):
    api, _ = bot
    api.user_sends_text(USER, "/start")
    menu = await api.wait_for_bot()
    assert menu.text == "欢迎 <托育助手>"
    assert menu.raw_text.startswith("<b>欢迎</b>")
    assert menu.entities == [{"type": "bold", "offset": 0, "length": 2}]
    assert menu.buttons == [[("显示原文", "show:1"), ("下一页", "page:2")], [("官网", "https://example.org/")]]

    api.user_taps_button(USER, menu.message_id, menu.callback_data("原文"))
    edited = await api.wait_for_bot(lambda m: m.edited)
    assert edited is menu and menu.text == "你选择了 show:1"
    assert menu.buttons == []  # editing the text without reply_markup drops the keyboard
    assert menu.history[0][0] == "欢迎 <托育助手>"
    await api.wait_until_idle()
    assert [a.text for a in api.callback_answers] == ["好的"]

    api.user_sends_text(USER, "你好 123")
    echo = await api.wait_for_bot()
    assert (echo.chat_id, echo.text, echo.kind) == (USER, "echo: 你好 123", "message")
    assert echo.reply_to == api.updates_log[-1]["message"]["message_id"]


async def test_document_round_trip_and_location(bot):
    api, app = bot
    payload = "第一条\n".encode() * 1000 + bytes(range(256))
    api.user_sends_document(USER, "营业执照.pdf", payload, "application/pdf")
    reply = await api.wait_for_bot()
    assert app.bot_data["received"] == payload
    assert reply.kind == "document"
    assert reply.filename == "回执-营业执照.pdf"
    assert reply.data == payload
    assert reply.caption == f"收到 {len(payload)} 字节"

    api.user_shares_location(USER, 24.48, 118.09)
    venue = await api.wait_for_bot()
    assert (venue.kind, venue.title, venue.address) == ("venue", "示范托育园", "思明区 1 号")
    assert (venue.latitude, venue.longitude) == (24.48, 118.09)


async def test_bot_mistakes_are_reported_like_telegram(bot):
    api, _ = bot
    api.user_sends_text(USER, "/bad")
    reply = await api.wait_for_bot()
    assert reply.text.lower() == 'error: can\'t parse entities: unsupported start tag "1000" at byte offset 7'
    api.user_sends_text(USER, "/long")
    reply = await api.wait_for_bot()
    assert reply.text.lower() == "error: message is too long"
    # nothing else was sent: the failed calls left no message behind
    assert [m.text.split(":")[0] for m in api.sent] == ["error", "error"]


async def test_stale_button_and_idle_helpers(bot):
    api, _ = bot
    api.user_sends_text(USER, "/start")
    menu = await api.wait_for_bot()
    api.user_taps_button(USER, menu.message_id, "show:1")
    await api.wait_for_bot(lambda m: m.edited)
    with pytest.raises(LookupError):
        api.user_taps_button(USER, menu.message_id, "page:2")  # no longer on the keyboard
    api.user_taps_button(USER, menu.message_id, "page:2", stale_ok=True)
    await api.wait_until_idle()
    assert menu.text == "你选择了 page:2" and len(menu.history) == 2


# ------------------------------------------------------------------ Bot API semantics, no PTB


async def test_get_updates_offset_semantics():
    api = LocalBotApi()
    for text in ("a", "b", "c"):
        api.user_sends_text(USER, text)
    assert [u["update_id"] for u in await api.call("getUpdates", {})] == [1, 2, 3]
    assert [u["update_id"] for u in await api.call("getUpdates", {"offset": 2, "limit": 1})] == [2]
    assert [u["update_id"] for u in await api.call("getUpdates", {})] == [2, 3]  # 1 is confirmed
    assert [u["update_id"] for u in await api.call("getUpdates", {"offset": -1})] == [3]
    assert await api.call("getUpdates", {"offset": 4}) == []

    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await api.call("getUpdates", {"offset": 4, "timeout": 0.2}) == []
    assert loop.time() - started >= 0.19

    # a long poll returns as soon as the user writes, even from another thread
    poll = asyncio.create_task(api.call("getUpdates", {"offset": 4, "timeout": 5}))
    await asyncio.sleep(0.05)
    threading.Thread(target=api.user_sends_text, args=(USER, "d")).start()
    updates = await asyncio.wait_for(poll, 2)
    assert [u["message"]["text"] for u in updates] == ["d"]

    # and a waiting long poll is cancellable
    poll = asyncio.create_task(api.call("getUpdates", {"offset": 6, "timeout": 30}))
    await asyncio.sleep(0.02)
    poll.cancel()
    with pytest.raises(asyncio.CancelledError):
        await poll


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("<b>粗体", 'can\'t parse entities: Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'can\'t parse entities: Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("a<br>b", 'can\'t parse entities: Unsupported start tag "br" at byte offset 1'),
        ("x</b>", "can't parse entities: Unexpected end tag at byte offset 1"),
        ("<i>", "can't parse entities: Can't find end tag corresponding to start tag \"i\""),
        ("   ", "message text is empty"),
        ("<b></b>", "message text is empty"),
        ("x" * 4097, "message is too long"),
    ],
)
async def test_send_message_validation(text, error):
    api = LocalBotApi()
    api.add_user(USER)
    with pytest.raises(BotApiError) as info:
        await api.call("sendMessage", {"chat_id": USER, "text": text, "parse_mode": "HTML"})
    assert (info.value.code, info.value.description) == (400, "Bad Request: " + error)
    assert api.sent == []


async def test_html_that_telegram_accepts():
    api = LocalBotApi()
    api.add_user(USER)
    text = ('<b>a</b> <i>b</i> <u>c</u> <s>d</s> <code>e</code> <pre><code class="language-py">f</code></pre> '
            '<a href="https://x.org/?a=1&amp;b=2">g</a> <blockquote>h</blockquote> <tg-spoiler>i</tg-spoiler> '
            '<span class="tg-spoiler">j</span> A & B &#20320; &quot;k&quot; 😀')
    message = await api.call("sendMessage", {"chat_id": USER, "text": text, "parse_mode": "HTML"})
    assert message["text"] == 'a b c d e f g h i j A & B 你 "k" 😀'
    link = next(e for e in message["entities"] if e["type"] == "text_link")
    assert link["url"] == "https://x.org/?a=1&b=2"
    assert (await api.call("sendMessage", {"chat_id": USER, "text": "x" * 4096}))["text"] == "x" * 4096


async def test_edits_markup_callbacks_and_unknown_methods():
    api = LocalBotApi()
    api.add_user(USER)
    keyboard = {"inline_keyboard": [[{"text": "预约", "callback_data": "book:1"}]]}
    msg = await api.call("sendMessage", {"chat_id": USER, "text": "hi", "reply_markup": keyboard})
    params = {"chat_id": USER, "message_id": msg["message_id"], "text": "hi", "reply_markup": keyboard}
    with pytest.raises(BotApiError, match="message is not modified"):
        await api.call("editMessageText", params)
    with pytest.raises(BotApiError, match="message is not modified"):
        await api.call("editMessageReplyMarkup", {**params, "text": None})
    await api.call("editMessageReplyMarkup", {"chat_id": USER, "message_id": msg["message_id"]})
    assert api.sent[0].buttons == [] and api.sent[0].edited
    with pytest.raises(BotApiError, match="message to edit not found"):
        await api.call("editMessageText", {**params, "message_id": 999})
    with pytest.raises(BotApiError, match="BUTTON_DATA_INVALID"):
        await api.call("sendMessage", {"chat_id": USER, "text": "x", "reply_markup": {
            "inline_keyboard": [[{"text": "x", "callback_data": "长" * 22}]]}})
    with pytest.raises(BotApiError, match="chat not found"):
        await api.call("sendMessage", {"chat_id": 4242, "text": "x"})
    assert await api.call("deleteMessage", {"chat_id": USER, "message_id": msg["message_id"]}) is True
    assert api.sent[0].deleted
    with pytest.raises(BotApiError, match="message to delete not found"):
        await api.call("deleteMessage", {"chat_id": USER, "message_id": msg["message_id"]})
    api.user_blocks_bot(USER)
    with pytest.raises(BotApiError, match="blocked") as info:
        await api.call("sendMessage", {"chat_id": USER, "text": "x"})
    assert info.value.code == 403
    with pytest.raises(BotApiError) as info:
        await api.call("sendTelepathy", {})
    assert (info.value.code, info.value.description) == (404, "Not Found")
    with pytest.raises(BotApiError, match="query is too old"):
        await api.call("answerCallbackQuery", {"callback_query_id": "nope"})


async def test_http_server_decodes_form_and_multipart():
    with FakeBotApiServer() as server:
        api = server.api
        api.add_user(USER)
        async with httpx.AsyncClient(base_url=server.base_url + TOKEN) as client:
            r = await client.post("/sendMessage", data={"chat_id": str(USER), "text": "123"})
            assert r.json()["result"]["text"] == "123"  # a numeric-looking text stays a string
            r = await client.post("/sendMessage", data={"chat_id": str(USER), "text": "<b>x", "parse_mode": "HTML"})
            assert r.status_code == 400 and r.json()["ok"] is False
            r = await client.post("/sendDocument", data={"chat_id": str(USER), "caption": "表"},
                                  files={"document": ("报表 1.csv", b"a,b\n1,2\n", "text/csv")})
            doc = r.json()["result"]["document"]
            assert doc["file_name"] == "报表 1.csv"
            path = (await client.post("/getFile", data={"file_id": doc["file_id"]})).json()["result"]["file_path"]
            r = await client.get(f"{server.base_file_url}{TOKEN}/{path}")
            assert r.content == b"a,b\n1,2\n"
            assert (await client.post("/noSuchMethod")).status_code == 404
    assert not [t for t in threading.enumerate() if t.name == "fake-bot-api"]


async def test_plain_bot_methods_in_process():
    """Menu commands, chat actions, photos and captions through PTB's Bot on LocalRequest."""
    from telegram import Bot, BotCommand, MenuButtonCommands
    from telegram.constants import ChatAction

    api = LocalBotApi()
    api.add_user(USER)
    async with Bot(TOKEN, request=LocalRequest(api), get_updates_request=LocalRequest(api)) as tg:
        assert (await tg.get_me()).username == api.bot_username
        await tg.set_my_commands([BotCommand("start", "开始"), BotCommand("find", "附近托育")])
        await tg.set_my_commands([BotCommand("start", "Start")], language_code="en")
        assert [c.command for c in await tg.get_my_commands()] == ["start", "find"]
        assert [c.description for c in await tg.get_my_commands(language_code="en")] == ["Start"]
        assert await tg.set_chat_menu_button(menu_button=MenuButtonCommands())
        await tg.send_chat_action(USER, ChatAction.UPLOAD_DOCUMENT)
        assert api.chat_actions == [(USER, "upload_document")]
        photo = await tg.send_photo(USER, photo=b"\x89PNG fake", caption="<i>地图</i>", parse_mode="HTML")
        assert photo.caption == "地图" and api.sent[-1].kind == "photo"
        edited = await tg.edit_message_caption(USER, photo.message_id, caption="新地图")
        assert edited.caption == "新地图" and api.sent[-1].edited
        with pytest.raises(BadRequest, match="(?i)message caption is too long"):
            await tg.send_photo(USER, photo=b"x", caption="长" * 1025)
        resent = await tg.send_document(USER, document=photo.photo[-1].file_id)  # re-send by file_id
        assert api.sent[-1].data == b"\x89PNG fake" and resent.document is not None
        api.user_sends_photo(USER, b"JPEGDATA", caption="孩子的照片")
        update = (await tg.get_updates())[0]
        assert update.message.caption == "孩子的照片"
        assert await (await update.message.photo[-1].get_file()).download_as_bytearray() == bytearray(b"JPEGDATA")
