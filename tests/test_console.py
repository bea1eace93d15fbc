"""Console mode drives a real PTB Application from a scripted 'terminal'."""

from __future__ import annotations

import io
import threading
import time

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.console import ConsoleOptions, render_html, run_console
from bot.context import BotContext
from bot.local_api import LocalBotApi

SEEN: dict[str, object] = {}


def factory(request, get_updates_request):
    app = ApplicationBuilder().token("123:LOCAL").request(request).get_updates_request(get_updates_request).build()

    async def start(update: Update, context: BotContext) -> None:
        await update.message.reply_text(
            '<b>欢迎</b>使用 <a href="https://example.org/">托育助手</a>\n请选择：',
            parse_mode="HTML",
            reply_markup=InlineKeyboardMarkup([
                [InlineKeyboardButton("显示原文", callback_data="orig"), InlineKeyboardButton("下一页", callback_data="next")],
                [InlineKeyboardButton("官网", url="https://example.org/")],
            ]),
        )

    async def on_button(update: Update, context: BotContext) -> None:
        await update.callback_query.answer("好的")
        await update.callback_query.edit_message_text(f"原文：第{update.callback_query.data}条")

    async def echo(update: Update, context: BotContext) -> None:
        await update.message.reply_text(f"你说：{update.message.text}")

    async def ask_location(update: Update, context: BotContext) -> None:
        keyboard = ReplyKeyboardMarkup([[KeyboardButton("发送位置", request_location=True), "思明区"]])
        await update.message.reply_text("请分享位置或选择区", reply_markup=keyboard)

    async def on_location(update: Update, context: BotContext) -> None:
        loc = update.message.location
        SEEN["location"] = (loc.latitude, loc.longitude)
        await update.message.reply_text("收到位置", reply_markup=ReplyKeyboardRemove())
        await update.message.reply_venue(latitude=24.4798, longitude=118.0894, title="示范托育园", address="思明区湖滨南路 1 号")

    async def on_document(update: Update, context: BotContext) -> None:
        data = await (await update.message.document.get_file()).download_as_bytearray()
        SEEN["document"] = (update.message.document.file_name, bytes(data))
        await update.message.reply_document(document=b"%PDF-1.4 receipt", filename="回执.pdf", caption="已收到")

    async def slow(update: Update, context: BotContext) -> None:
        import asyncio

        await asyncio.sleep(0.4)  # thinks before answering: the console must wait for it
        await update.message.reply_text("想好了")

    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("near", ask_location))
    app.add_handler(CommandHandler("slow", slow))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(filters.LOCATION, on_location))
    app.add_handler(MessageHandler(filters.Document.ALL, on_document))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    return app


async def chat(script: str, tmp_path, **kwargs) -> str:
    out = io.StringIO()
    await run_console(factory, ConsoleOptions(input_stream=io.StringIO(script), output_stream=out,
                                              download_dir=tmp_path / "downloads", **kwargs))
    return out.getvalue()


async def test_scripted_session(tmp_path):
    SEEN.clear()
    started = time.monotonic()
    transcript = await chat("/start\n1\n你好\n7\n/location 24.48,118.09\n/slow\n", tmp_path)
    assert time.monotonic() - started < 5
    print(transcript)
    assert transcript.startswith("托育助手")
    assert "/location" in transcript.split("\n\n")[0]
    # /start: HTML rendered as plain text (output is not a tty), link shown with its URL, buttons numbered
    assert "🤖 欢迎使用 托育助手 (https://example.org/)\n   请选择：\n" in transcript
    assert "   [1] 显示原文  [2] 下一页\n   [3] 官网 (https://example.org/)\n" in transcript
    # "1" taps the first button: callback answer and the edited message
    assert "  💬 好的\n" in transcript
    assert "🤖 (已更新 updated) 原文：第orig条\n" in transcript
    # plain text, and a number that matches no button is sent as text
    assert "🤖 你说：你好\n" in transcript
    assert "🤖 你说：7\n" in transcript
    # the location reaches the handler; the venue is printed
    assert SEEN["location"] == (24.48, 118.09)
    assert "📍 示范托育园, 思明区湖滨南路 1 号 (24.47980, 118.08940)\n" in transcript
    # a handler that thinks before answering is waited for, in order
    assert transcript.index("🤖 想好了") > transcript.index("你 you> /slow")
    assert transcript.rstrip().endswith("再见 Bye.")
    assert "Traceback" not in transcript
    assert not [t for t in threading.enumerate() if t.name == "console-input"]


async def test_reply_keyboard_file_upload_and_download(tmp_path):
    SEEN.clear()
    upload = tmp_path / "营业执照.docx"
    upload.write_bytes(b"PK\x03\x04 fake docx")
    transcript = await chat(f"/near\n2\n1\n/file {upload}\n/file /no/such/file\n/quit\n你好\n", tmp_path)
    print(transcript)
    assert "   ⌨ [1] 发送位置  [2] 思明区\n" in transcript
    assert "🤖 你说：思明区\n" in transcript  # "2" pressed the reply keyboard button
    assert "/location" in transcript.split("你 you> 1\n")[1].split("\n")[0]  # location button → hint
    assert SEEN["document"] == ("营业执照.docx", b"PK\x03\x04 fake docx")
    saved = tmp_path / "downloads" / "回执.pdf"
    assert saved.read_bytes() == b"%PDF-1.4 receipt"
    assert f"🤖 📄 回执.pdf (16 B) saved to {saved}\n   已收到\n" in transcript
    assert "找不到文件 file not found: /no/such/file" in transcript
    assert "你好" not in transcript.split("/quit")[1]  # nothing after /quit is read


async def test_user_and_language_reach_the_bot(tmp_path):
    api = LocalBotApi()
    await chat("hello\n", tmp_path, api=api, user_id=777, language="en")
    message = api.updates_log[0]["message"]
    assert (message["from"]["id"], message["from"]["language_code"], message["chat"]["type"]) == (777, "en", "private")
    assert api.sent[0].text == "你说：hello"


def test_render_html():
    assert render_html('<b>粗</b> &lt;x&gt; <a href="https://a.org">链接</a>') == "粗 <x> 链接 (https://a.org)"
    assert render_html("<b>粗</b>", color=True) == "\033[1m粗\033[0m"
    assert render_html('<a href="https://a.org">https://a.org</a>') == "https://a.org"
