"""PerUserUpdateProcessor through the real python-telegram-bot stack and the fake Bot API over HTTP:
one user's updates are handled in the order sent, different users' updates run at the same time."""

from __future__ import annotations

import asyncio
import time

from telegram import Update
from telegram.ext import ApplicationBuilder, MessageHandler, filters

from bot.console_transport import running_application
from bot.context import BotContext
from bot.local_api import application_is_busy
from bot.update_processor import PerUserUpdateProcessor, ordering_key
from tests.fakes.fixtures import FAKE_TOKEN


def _app(server, processor: PerUserUpdateProcessor, handled: list[tuple[int, str]], delay_of):
    async def handle(update: Update, context: BotContext) -> None:
        text = update.effective_message.text
        await asyncio.sleep(delay_of(update.effective_user.id, text))
        handled.append((update.effective_user.id, text))
        await update.effective_message.reply_text(f"done {text}")

    app = (
        ApplicationBuilder().token(FAKE_TOKEN).base_url(server.base_url).base_file_url(server.base_file_url)
        .concurrent_updates(processor).build()
    )
    app.add_handler(MessageHandler(filters.TEXT, handle))
    return app


async def test_one_users_updates_keep_their_order(fake_bot_api):
    """Earlier messages take longer; a plain concurrent processor would finish them last."""
    handled: list[tuple[int, str]] = []
    app = _app(fake_bot_api, PerUserUpdateProcessor(64), handled, lambda _uid, text: 0.05 * (6 - int(text)))
    async with running_application(app, poll_timeout=0.2):
        for i in range(1, 6):
            fake_bot_api.api.user_sends_text(501, str(i))
        await fake_bot_api.api.wait_until_idle(quiet=0.1, busy=lambda: application_is_busy(app), timeout=10)
    assert [text for _, text in handled] == ["1", "2", "3", "4", "5"]
    assert [m.text for m in fake_bot_api.api.messages_to(501)] == [f"done {i}" for i in range(1, 6)]


async def test_different_users_run_concurrently(fake_bot_api):
    handled: list[tuple[int, str]] = []
    app = _app(fake_bot_api, PerUserUpdateProcessor(64), handled, lambda _uid, _text: 0.4)
    async with running_application(app, poll_timeout=0.2):
        started = time.monotonic()
        for uid in range(600, 620):
            fake_bot_api.api.user_sends_text(uid, "hi")
        await fake_bot_api.api.wait_until_idle(quiet=0.1, busy=lambda: application_is_busy(app), timeout=15)
        elapsed = time.monotonic() - started
    assert len(handled) == 20
    assert elapsed < 2.5, f"20 users x 0.4 s took {elapsed:.2f} s: not concurrent"


async def test_a_flooding_user_does_not_hold_every_slot(fake_bot_api):
    """With 2 slots, user 700's ten slow messages wait for each other outside the slots, so user 701's
    single message is handled long before 700's last one."""
    handled: list[tuple[int, str]] = []
    app = _app(fake_bot_api, PerUserUpdateProcessor(2), handled, lambda uid, _text: 0.15 if uid == 700 else 0.0)
    async with running_application(app, poll_timeout=0.2):
        for i in range(10):
            fake_bot_api.api.user_sends_text(700, f"a{i}")
        fake_bot_api.api.user_sends_text(701, "b")
        await fake_bot_api.api.wait_until_idle(quiet=0.1, busy=lambda: application_is_busy(app), timeout=15)
    order = [text for _, text in handled]
    assert [t for t in order if t.startswith("a")] == [f"a{i}" for i in range(10)]
    assert order.index("b") <= 2


async def test_cancelled_waiter_keeps_the_chain():
    """An update cancelled while waiting must not let its successor overtake the running one."""
    processor = PerUserUpdateProcessor(8)
    log: list[str] = []
    release = asyncio.Event()

    async def job(name: str, wait: asyncio.Event | None = None) -> None:
        if wait is not None:
            await wait.wait()
        log.append(name)

    first = asyncio.create_task(processor.process_update(_update(1), job("first", release)))
    await asyncio.sleep(0)
    second = asyncio.create_task(processor.process_update(_update(1), job("second")))
    await asyncio.sleep(0)
    third = asyncio.create_task(processor.process_update(_update(1), job("third")))
    await asyncio.sleep(0.05)
    second.cancel()
    await asyncio.sleep(0.05)
    assert log == []  # "third" still waits for "first"
    release.set()
    await asyncio.gather(first, third)
    assert log == ["first", "third"]
    assert processor.current_concurrent_updates == 0
    assert processor.waiting_keys == 0


def _update(user_id: int) -> Update:
    return Update.de_json(
        {"update_id": 1, "message": {"message_id": 1, "date": 0, "text": "x", "chat": {"id": user_id, "type": "private"},
                                     "from": {"id": user_id, "is_bot": False, "first_name": "U"}}},
        None,
    )


def test_ordering_key_is_the_user():
    assert ordering_key(_update(42)) == ("user", 42)
    assert ordering_key(object()) is None
