"""Concurrent update processing that keeps each user's updates in order.

python-telegram-bot's `concurrent_updates(n)` runs up to `n` updates at once in any order: a parent who
taps "book" and then "my bookings" could see the second answered first, and two taps of the same
conversation could race on its state. `PerUserUpdateProcessor` runs updates of *different* users
concurrently (at most `max_concurrent_updates` at a time) and updates of the *same* user (or chat, when an
update has no user) one after another, in the order the Application received them.

Wire it in with `ApplicationBuilder().concurrent_updates(PerUserUpdateProcessor(64))`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Hashable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.state import update_prefetch

log = logging.getLogger(__name__)

__all__ = ["PerUserUpdateProcessor", "ordering_key"]


def ordering_key(update: object) -> Hashable | None:
    """The key whose updates must not overtake each other: the user, else the chat, else none.

    Private chats (the bot's normal case) have chat id == user id, so this is one queue per person.
    Updates without a user or chat (e.g. poll states) are processed without ordering.
    """
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return ("user", update.effective_user.id)
    if update.effective_chat is not None:
        return ("chat", update.effective_chat.id)
    return None


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Process updates concurrently (bounded), one user's updates strictly in arrival order.

    An update whose user already has an update in progress waits for it *before* taking one of the
    `max_concurrent_updates` slots, so one user sending many messages cannot occupy the slots other
    users need.
    """

    def __init__(self, max_concurrent_updates: int = 64):
        super().__init__(max_concurrent_updates)
        # key -> future done when the newest accepted update of that key has finished
        self._tails: dict[Hashable, asyncio.Future[None]] = {}
        self._accepted = 0

    @property
    def current_concurrent_updates(self) -> int:
        """Updates accepted and not finished yet: running ones and ones waiting for their turn."""
        return self._accepted

    @property
    def waiting_keys(self) -> int:
        """How many users currently have an update in progress (for diagnostics)."""
        return len(self._tails)

    async def process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for the same user's previous update, then run this one within the concurrency bound."""
        key = ordering_key(update)
        self._accepted += 1
        try:
            if key is None:
                async with self._semaphore:
                    await self.do_process_update(update, coroutine)
                return
            await self._process_in_order(key, update, coroutine)
        finally:
            self._accepted -= 1

    async def _process_in_order(self, key: Hashable, update: object, coroutine: Awaitable[Any]) -> None:
        loop = asyncio.get_running_loop()
        previous = self._tails.get(key)
        done: asyncio.Future[None] = loop.create_future()
        self._tails[key] = done  # set synchronously: the next update of this key waits for us
        started = False
        try:
            if previous is not None and not previous.done():
                await asyncio.shield(previous)
            async with self._semaphore:
                started = True
                await self.do_process_update(update, coroutine)
        finally:
            if not started and asyncio.iscoroutine(coroutine):
                coroutine.close()  # cancelled while waiting: never awaited, no warning
            if previous is not None and not previous.done():
                # Cancelled while the previous one still runs: our successor must still wait for it.
                previous.add_done_callback(lambda _f: done.done() or done.set_result(None))
                if self._tails.get(key) is done:
                    self._tails[key] = previous
            else:
                if not done.done():
                    done.set_result(None)
                if self._tails.get(key) is done:
                    del self._tails[key]

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the Application's handling of the update (errors go to its error handlers), with a prefetch of
        the user's conversation states that lives as long as this update (`bot.state.update_prefetch`)."""
        with update_prefetch():
            await coroutine

    async def initialize(self) -> None:
        """Nothing to allocate."""
        return None

    async def shutdown(self) -> None:
        """Forget finished chains; running updates are awaited by the Application itself."""
        with contextlib.suppress(Exception):
            self._tails = {k: f for k, f in self._tails.items() if not f.done()}
