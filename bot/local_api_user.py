"""The user side of the in-memory Bot API and what a test observes: the mixin `LocalBotApi` inherits. Users
send text, commands, locations, files and taps (queued as updates the bot fetches with getUpdates); scripts
read what the bot sent and wait for it. State and locking live in `bot.local_api.LocalBotApi`."""

from __future__ import annotations

import mimetypes
import re
import time
from collections.abc import Callable
from typing import Any, Unpack

from bot.local_api_format import _BOT_COMMAND_RE, BotApiError, _utf16_len
from bot.local_api_types import Sender, SentMessage, StoredFile, _User


class UserSide:
    """User actions and observation helpers of `LocalBotApi` (uses its state, under its lock)."""

    # ------------------------------------------------------------------ user side
    def add_user(self, user_id: int, *, first_name: str = "家长", language_code: str | None = "zh") -> None:
        """Make a chat known without sending an update (as if the user pressed Start long ago)."""
        with self._lock:
            self._user(user_id, first_name, language_code)

    def user_blocks_bot(self, user_id: int) -> None:
        """From now on, sending to this user fails with 403 as on Telegram (until they write again)."""
        with self._lock:
            self._user(user_id).blocked = True

    def _queue_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": self._next_update_id, kind: payload}
        self._next_update_id += 1
        self._updates.append(update)
        self.updates_log.append(update)
        self._last_activity = time.monotonic()
        self._notify()
        self._user_action_seq = self._seq  # wait_for_bot() looks at changes after this
        return update

    def _user_message(self, user_id: int, sender: Sender, reply_to: int | None = None,
                      **content: Any) -> dict[str, Any]:
        with self._lock:
            user = self._user(user_id, sender.get("first_name"), sender.get("language_code", "zh"))
            message = {
                "message_id": self._new_message_id(user_id),
                "from": user.as_user(),
                "chat": user.as_chat(),
                "date": int(time.time()),
                **content,
            }
            if reply_to is not None and (user_id, reply_to) in self._messages:
                message["reply_to_message"] = self._messages[(user_id, reply_to)]
            self._messages[(user_id, message["message_id"])] = message
            self._queue_update("message", message)
            return message

    def user_sends_text(self, user_id: int, text: str, *, reply_to: int | None = None,
                        **sender: Unpack[Sender]) -> dict[str, Any]:
        """The user types `text`. A leading /command gets the bot_command entity Telegram adds.
        Returns the Message object (dict) the bot will receive."""
        content: dict[str, Any] = {"text": text}
        m = _BOT_COMMAND_RE.match(text)
        if m:
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": _utf16_len(m.group(0))}]
        return self._user_message(user_id, sender, reply_to, **content)

    def user_sends_text_in_group(self, user_id: int, group_id: int, text: str, *,
                                 language_code: str | None = "zh") -> dict[str, Any]:
        """The user writes `text` in a group chat (`group_id` < 0) where the bot is a member."""
        with self._lock:
            user = self._user(user_id, None, language_code)
            group = self._users.get(group_id) or _User(group_id, f"Group{-group_id}", None, chat_type="group")
            self._users[group_id] = group
            content: dict[str, Any] = {"text": text}
            m = _BOT_COMMAND_RE.match(text)
            if m:
                content["entities"] = [{"type": "bot_command", "offset": 0, "length": _utf16_len(m.group(0))}]
            message = {"message_id": self._new_message_id(group_id), "from": user.as_user(),
                       "chat": group.as_chat(), "date": int(time.time()), **content}
            self._messages[(group_id, message["message_id"])] = message
            self._queue_update("message", message)
            return message

    def channel_posts_text(self, channel_id: int, text: str) -> dict[str, Any]:
        """A post in a channel the bot administers: an update with no user at all."""
        with self._lock:
            channel = self._users.get(channel_id) or _User(channel_id, f"Channel{-channel_id}", None,
                                                           chat_type="channel")
            self._users[channel_id] = channel
            post = {"message_id": self._new_message_id(channel_id), "chat": channel.as_chat(),
                    "date": int(time.time()), "text": text}
            self._queue_update("channel_post", post)
            return post

    def user_taps_inline_message_button(self, user_id: int, callback_data: str) -> str:
        """A tap on a button of an inline-mode message: the callback query carries no message."""
        with self._lock:
            user = self._user(user_id)
            query_id = str(next(self._ids) * 1000 + user_id % 1000)
            self._callback_queries[query_id] = (user_id, callback_data)
            self._queue_update("callback_query", {"id": query_id, "from": user.as_user(),
                                                  "inline_message_id": f"im{query_id}",
                                                  "chat_instance": f"ci{user_id}", "data": callback_data})
            return query_id

    def user_sends_command(self, user_id: int, command: str, args: str = "", **kwargs: Any) -> dict[str, Any]:
        """`user_sends_command(1, "start")` or `("/start", "deep-link")` → the text '/start deep-link'."""
        text = "/" + command.lstrip("/") + (f" {args}" if args else "")
        return self.user_sends_text(user_id, text, **kwargs)

    def user_shares_location(self, user_id: int, latitude: float, longitude: float,
                             **sender: Unpack[Sender]) -> dict[str, Any]:
        """The user shares a location (a map pin)."""
        return self._user_message(user_id, sender,
                                  location={"latitude": float(latitude), "longitude": float(longitude)})

    def _store_file(self, data: bytes, filename: str | None, mime_type: str | None, folder: str) -> StoredFile:
        n = next(self._ids)
        ext = ""
        if filename and "." in filename:
            ext = "." + re.sub(r"[^A-Za-z0-9]", "", filename.rsplit(".", 1)[1])[:8]
        elif mime_type:
            ext = mimetypes.guess_extension(mime_type) or ""
        stored = StoredFile(
            file_id=f"{folder[:3].upper()}Local{n:06d}{self.bot_id}",
            file_unique_id=f"U{n:06d}",
            file_path=f"{folder}/file_{n}{ext}",
            data=bytes(data),
            filename=filename,
            mime_type=mime_type,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def user_sends_document(self, user_id: int, filename: str, data: bytes, mime_type: str | None = None, *,
                            caption: str | None = None, **sender: Unpack[Sender]) -> dict[str, Any]:
        """The user sends a file (MIME type guessed from the name when not given)."""
        mime_type = mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        with self._lock:
            f = self._store_file(data, filename, mime_type, "documents")
            doc = {"file_id": f.file_id, "file_unique_id": f.file_unique_id, "file_name": filename,
                   "mime_type": mime_type, "file_size": len(f.data)}
            extra = {"caption": caption} if caption else {}
            return self._user_message(user_id, sender, document=doc, **extra)

    def user_sends_photo(self, user_id: int, data: bytes, *, caption: str | None = None,
                         size: tuple[int, int] = (800, 600), **sender: Unpack[Sender]) -> dict[str, Any]:
        """The user sends a photo of `size` (width, height) pixels."""
        width, height = size
        with self._lock:
            f = self._store_file(data, "photo.jpg", "image/jpeg", "photos")
            sizes = [{"file_id": f.file_id, "file_unique_id": f.file_unique_id, "width": width,
                      "height": height, "file_size": len(f.data)}]
            extra = {"caption": caption} if caption else {}
            return self._user_message(user_id, sender, photo=sizes, **extra)

    def user_taps_button(self, user_id: int, message_id: int, callback_data: str, *,
                         stale_ok: bool = False) -> str:
        """The user taps an inline button of the bot's message `message_id`; returns the callback
        query id. The data must be on the message's current keyboard unless `stale_ok` (an old
        button can still be tapped on a real client, e.g. a double tap racing an edit)."""
        with self._lock:
            record = self._sent_index.get((user_id, message_id))
            if record is None or record.deleted:
                raise LookupError(f"user {user_id} has no bot message {message_id}")
            on_keyboard = any(d == callback_data for row in record.buttons for _, d in row)
            if not on_keyboard and not stale_ok:
                raise LookupError(
                    f"callback data {callback_data!r} is not on message {message_id}'s keyboard "
                    f"{record.buttons} (pass stale_ok=True to tap an old button)"
                )
            user = self._user(user_id)
            query_id = str(next(self._ids) * 1000 + user_id % 1000)
            self._callback_queries[query_id] = (user_id, callback_data)
            query = {
                "id": query_id,
                "from": user.as_user(),
                "message": self._messages[(user_id, message_id)],
                "chat_instance": f"ci{user_id}",
                "data": callback_data,
            }
            self._queue_update("callback_query", query)
            return query_id

    def user_taps_button_text(self, user_id: int, message_id: int, text_contains: str) -> str:
        """Tap the first inline button whose label contains `text_contains`."""
        with self._lock:
            record = self._sent_index.get((user_id, message_id))
            if record is None:
                raise LookupError(f"user {user_id} has no bot message {message_id}")
            data = record.callback_data(text_contains)
        return self.user_taps_button(user_id, message_id, data)

    # ------------------------------------------------------------------ observation helpers
    def messages_to(self, chat_id: int, *, include_deleted: bool = False) -> list[SentMessage]:
        with self._lock:
            return [m for m in self.sent if m.chat_id == chat_id and (include_deleted or not m.deleted)]

    def last_message(self, chat_id: int | None = None) -> SentMessage | None:
        with self._lock:
            for m in reversed(self.sent):
                if (chat_id is None or m.chat_id == chat_id) and not m.deleted:
                    return m
            return None

    def changes_since(self, seq: int, chat_id: int | None = None) -> list[SentMessage]:
        """Bot messages sent, edited or deleted after change counter `seq`, oldest change first."""
        with self._lock:
            changed = [m for m in self.sent if m.seq > seq and (chat_id is None or m.chat_id == chat_id)]
        return sorted(changed, key=lambda m: m.seq)

    @property
    def seq(self) -> int:
        """The change counter; pass it to `changes_since` / `wait_for_bot(since=...)`."""
        return self._seq

    def file_bytes(self, file_path: str) -> bytes:
        """Contents for a file path returned by getFile (what /file/bot<token>/<path> serves)."""
        with self._lock:
            stored = self._files_by_path.get(file_path.lstrip("/"))
        if stored is None:
            raise BotApiError(404, "Not Found")
        return stored.data

    def file(self, file_id: str) -> StoredFile | None:
        with self._lock:
            return self._files.get(file_id)

    async def wait_for_bot(self, predicate: Callable[[SentMessage], bool] | None = None, timeout: float = 10.0,
                           *, chat_id: int | None = None, since: int | None = None) -> SentMessage:
        """Wait until the bot sends or edits a message (matching `predicate`, in `chat_id`) after
        `since` (default: the latest user action) and return it; TimeoutError otherwise."""
        start = self._user_action_seq if since is None else since

        def found() -> SentMessage | None:
            for m in sorted((m for m in self.sent if m.seq > start), key=lambda m: m.seq):
                if (chat_id is None or m.chat_id == chat_id) and not m.deleted and (predicate is None or predicate(m)):
                    return m
            return None

        result = await self._wait(found, timeout)
        if result is None:
            recent = [(m.message_id, m.text) for m in self.sent[-5:]]
            raise TimeoutError(f"the bot sent nothing matching within {timeout}s; last messages: {recent}")
        return result

    def _idle(self, quiet: float, busy: Callable[[], bool] | None) -> bool:
        if any(u["update_id"] > self._delivered_upto for u in self._updates):
            return False
        if self._inflight or time.monotonic() - self._last_activity < quiet:
            return False
        return not (busy is not None and busy())

    async def wait_until_idle(self, quiet: float = 0.05, timeout: float = 10.0,
                              busy: Callable[[], bool] | None = None) -> None:
        """Wait until the bot has fetched every update, has no call in flight, made no call for
        `quiet` seconds and `busy()` (e.g. `application_is_busy`) is false. TimeoutError otherwise."""
        ok = await self._wait(lambda: self._idle(quiet, busy), timeout, poll=min(quiet, 0.02) or 0.01)
        if not ok:
            with self._lock:
                pending = [u["update_id"] for u in self._updates if u["update_id"] > self._delivered_upto]
            hint = " (is the application polling?)" if pending else ""
            raise TimeoutError(f"bot not idle after {timeout}s; undelivered updates {pending}{hint}")

    async def wait_for_change(self, since: int, timeout: float | None = None) -> int:
        """Wait until the change counter `seq` exceeds `since` (or timeout); return the counter."""
        await self._wait(lambda: self._seq > since, timeout)
        return self._seq

    def interrupt_polls(self, *, until_reopened: bool = False) -> None:
        """End every waiting getUpdates call now (with no updates). With `until_reopened`, later
        calls also return at once until `reopen_polls()` (used while a server shuts down)."""
        with self._lock:
            self._poll_generation += 1
            self._polls_closed = self._polls_closed or until_reopened
            self._notify()

    def reopen_polls(self) -> None:
        with self._lock:
            self._polls_closed = False
