"""An in-memory Telegram Bot API, used by console mode and by the end-to-end tests.

`LocalBotApi` plays both sides of a private Telegram conversation:

* the **bot side** — `await api.call(method, params, files)` answers Bot API methods the way the real
  server does (same result objects, same error texts for the mistakes a bot can make: badly formed
  HTML, over-long text, edits that change nothing, callback data over 64 bytes, unknown methods);
* the **user side** — `user_sends_text`, `user_taps_button`, `user_shares_location`,
  `user_sends_document`, ... queue updates that the bot receives through `getUpdates`.

Everything the bot sends is recorded in `sent` (a list of `SentMessage`), callback answers in
`callback_answers`. `wait_for_bot()` and `wait_until_idle()` let a script await the bot's reaction.

The object may be used from several threads (the HTTP test server answers each request in its own
thread) and several event loops: state is guarded by one lock and waiters are woken through their
own loop. It has no dependency on python-telegram-bot; `bot.console_transport` plugs it into PTB.

The user side and observation helpers are the mixin `bot.local_api_user.UserSide`; formatting (HTML,
MarkdownV2, markup checks) is `bot.local_api_format`; the records are `bot.local_api_types`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import mimetypes
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from bot.local_api_format import (
    MAX_CAPTION_LENGTH,
    MAX_DOWNLOAD_BYTES,
    MAX_TEXT_LENGTH,
    NOT_MODIFIED,
    BotApiError,
    _as_obj,
    _bad,
    _buttons,
    _check_markup,
    _reply_to,
    _same,
    format_text,
    parse_html,
)
from bot.local_api_types import CallbackAnswer, SentMessage, StoredFile, _User, application_is_busy
from bot.local_api_user import UserSide

__all__ = [
    "BotApiError",
    "CallbackAnswer",
    "LocalBotApi",
    "SentMessage",
    "StoredFile",
    "application_is_busy",
    "parse_html",
]

# --------------------------------------------------------------------------------------------------
# The API
# --------------------------------------------------------------------------------------------------

_ACCEPTED_METHODS = {  # methods we accept and record without modelling them further
    "setchatmenubutton", "deletemycommands", "setmydescription", "setmyshortdescription", "setmyname",
    "setmydefaultadministratorrights", "close", "logout", "setwebhook", "pinchatmessage",
    "unpinchatmessage",
}


class LocalBotApi(UserSide):
    """In-memory Bot API for one bot talking to private chats (chat id == user id)."""

    def __init__(self, *, bot_id: int = 123, username: str = "tuoyu_local_bot", first_name: str = "托育助手"):
        self.bot_id = bot_id
        self.bot_username = username
        self.bot_first_name = first_name
        self._lock = threading.RLock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
        self._ids = itertools.count(1)
        self._seq = 0  # increases on every change a watcher might care about
        self._next_update_id = 1
        self._updates: list[dict[str, Any]] = []  # not yet confirmed by getUpdates(offset)
        self._delivered_upto = 0  # highest update_id handed to the bot
        self._poll_generation = 0  # bumped by interrupt_polls() to end waiting getUpdates calls
        self._polls_closed = False
        self._users: dict[int, _User] = {}
        self._next_message_id: dict[int, int] = {}
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}  # every message: user's and bot's
        self._sent_index: dict[tuple[int, int], SentMessage] = {}
        self._callback_queries: dict[str, tuple[int, str | None]] = {}
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._commands: dict[str, list[dict[str, Any]]] = {}
        self._inflight = 0
        self._last_activity = time.monotonic()
        self._user_action_seq = 0
        # observation
        self.sent: list[SentMessage] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.chat_actions: list[tuple[int, str]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []  # every bot call except getUpdates
        self.updates_log: list[dict[str, Any]] = []  # every update ever queued

    # ------------------------------------------------------------------ plumbing
    def _notify(self) -> None:
        """Wake every waiter (any thread, any loop). Call with the lock held."""
        self._seq += 1
        for loop, event in self._waiters:
            with contextlib.suppress(RuntimeError):  # that loop is closed; its waiter is gone
                loop.call_soon_threadsafe(event.set)

    async def _wait(self, condition: Callable[[], Any], timeout: float | None, poll: float | None = None) -> Any:
        """Await until `condition()` (evaluated under the lock) is truthy; return it, or None on
        timeout. Wakes on every change; with `poll` also re-checks at that interval."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            event = asyncio.Event()
            with self._lock:
                result = condition()
                if result:
                    return result
                self._waiters.append((loop, event))
            try:
                remaining = None if deadline is None else deadline - loop.time()
                if remaining is not None and remaining <= 0:
                    return None
                if poll is not None:
                    remaining = poll if remaining is None else min(poll, remaining)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), remaining)
            finally:
                with self._lock:
                    self._waiters.remove((loop, event))

    def _bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.bot_first_name, "username": self.bot_username}

    def _new_message_id(self, chat_id: int) -> int:
        mid = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = mid + 1
        return mid

    def _user(self, user_id: int, first_name: str | None = None, language_code: str | None = None) -> _User:
        user = self._users.get(user_id)
        if user is None:
            user = _User(user_id, first_name or f"User{user_id}", language_code)
            self._users[user_id] = user
        else:
            if first_name:
                user.first_name = first_name
            if language_code:
                user.language_code = language_code
        user.blocked = False
        return user

    def _chat_for(self, chat_id: Any) -> _User:
        try:
            cid = int(chat_id)
        except (TypeError, ValueError):
            raise _bad("chat not found") from None
        user = self._users.get(cid)
        if user is None:
            raise _bad("chat not found")
        if user.blocked:
            raise BotApiError(403, "Forbidden: bot was blocked by the user")
        return user

    # ------------------------------------------------------------------ bot side
    async def call(self, method: str, params: dict[str, Any] | None = None,
                   files: dict[str, tuple[str | None, bytes, str | None]] | None = None) -> Any:
        """Execute Bot API `method`. `params` hold decoded values (ints, dicts, ...); `files` maps
        multipart field names to (filename, bytes, mime type). Returns the `result` object."""
        params = dict(params or {})
        files = dict(files or {})
        name = method.lower()
        if name == "getupdates":
            return await self._get_updates(params)
        handler = getattr(self, f"_m_{name}", None)
        with self._lock:
            self.calls.append((method, params))
            self._inflight += 1
            self._last_activity = time.monotonic()
        try:
            if handler is not None:
                with self._lock:
                    return handler(params, files)
            if name in _ACCEPTED_METHODS:
                return True
            raise BotApiError(404, "Not Found")
        finally:
            with self._lock:
                self._inflight -= 1
                self._last_activity = time.monotonic()
                self._notify()

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = float(params.get("timeout") or 0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, str):
            allowed = json.loads(allowed)
        with self._lock:
            if offset > 0:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            elif offset < 0:
                self._updates = self._updates[offset:]
            generation = self._poll_generation

        def available() -> list[dict[str, Any]] | bool:
            if self._poll_generation != generation or self._polls_closed:
                return True
            chosen = [u for u in self._updates if not allowed or any(k in u for k in allowed)]
            return chosen[:limit]

        result = await self._wait(available, timeout if timeout > 0 else 0)
        if not isinstance(result, list):
            return []
        with self._lock:
            if result:
                self._delivered_upto = max(self._delivered_upto, result[-1]["update_id"])
                self._last_activity = time.monotonic()
                self._notify()
        return result

    def _m_getme(self, p: dict, f: dict) -> dict[str, Any]:
        return {**self._bot_user(), "can_join_groups": False, "can_read_all_group_messages": False,
                "supports_inline_queries": False, "can_connect_to_business": False, "has_main_web_app": False}

    def _m_deletewebhook(self, p: dict, f: dict) -> bool:
        if p.get("drop_pending_updates") in (True, "true", "True"):
            self._updates.clear()
        return True

    def _m_getwebhookinfo(self, p: dict, f: dict) -> dict[str, Any]:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": len(self._updates)}

    @staticmethod
    def _commands_key(p: dict) -> str:
        scope = _as_obj(p.get("scope")) or {"type": "default"}
        return json.dumps([scope, p.get("language_code") or ""], sort_keys=True)

    def _m_setmycommands(self, p: dict, f: dict) -> bool:
        commands = _as_obj(p.get("commands"))
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        for c in commands:
            cmd = str(c.get("command", ""))
            if not re.fullmatch(r"[a-z0-9_]{1,32}", cmd):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(c.get("description", ""))) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID" if c.get("description") else "command description is empty")
        self._commands[self._commands_key(p)] = commands
        return True

    def _m_getmycommands(self, p: dict, f: dict) -> list[dict[str, Any]]:
        return self._commands.get(self._commands_key(p), [])

    def _m_getchatmenubutton(self, p: dict, f: dict) -> dict[str, Any]:
        return {"type": "commands"}

    def _m_sendchataction(self, p: dict, f: dict) -> bool:
        user = self._chat_for(p.get("chat_id"))
        self.chat_actions.append((user.id, str(p.get("action"))))
        return True

    def _m_answercallbackquery(self, p: dict, f: dict) -> bool:
        qid = str(p.get("callback_query_id", ""))
        if qid not in self._callback_queries:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        user_id, data = self._callback_queries[qid]
        text = p.get("text")
        if text is not None and len(str(text)) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        self._notify()
        self.callback_answers.append(CallbackAnswer(
            qid, user_id, data, text=text, show_alert=bool(p.get("show_alert")), url=p.get("url"), seq=self._seq))
        return True

    # ---- sending
    def _check_text(self, text: Any, parse_mode: Any, *, caption: bool = False) -> tuple[str, list[dict]]:
        if text is None or (not caption and str(text).strip() == ""):
            raise _bad("message text is empty")
        plain, entities = format_text(str(text), parse_mode)
        if not caption and not plain.strip():
            raise _bad("message text is empty")
        if caption and len(plain) > MAX_CAPTION_LENGTH:
            raise _bad("message caption is too long")
        if not caption and len(plain) > MAX_TEXT_LENGTH:
            raise _bad("message is too long")
        return plain, entities

    def _record(self, chat: _User, kind: str, p: dict, **content: Any) -> SentMessage:
        """Create the bot message (dict + record) with common fields: reply_markup and reply_to."""
        markup = _check_markup(p.get("reply_markup"))
        reply_to = _reply_to(p)
        if reply_to is not None and (chat.id, reply_to) not in self._messages:
            reply_params = _as_obj(p.get("reply_parameters")) or {}
            if not (reply_params.get("allow_sending_without_reply") or p.get("allow_sending_without_reply")):
                raise _bad("message to be replied not found")
            reply_to = None
        mid = self._new_message_id(chat.id)
        record = SentMessage(chat_id=chat.id, message_id=mid, kind=kind, reply_to=reply_to, date=int(time.time()))
        for k, v in content.items():
            setattr(record, k, v)
        record.reply_markup = markup
        record.buttons = _buttons(markup)
        self._store_sent(record)
        return record

    def _store_sent(self, record: SentMessage) -> None:
        message = self._message_dict(record)
        self._messages[(record.chat_id, record.message_id)] = message
        if (record.chat_id, record.message_id) not in self._sent_index:
            self._sent_index[(record.chat_id, record.message_id)] = record
            self.sent.append(record)
        self._notify()
        record.seq = self._seq

    def _message_dict(self, r: SentMessage) -> dict[str, Any]:
        chat = self._users[r.chat_id]
        m: dict[str, Any] = {"message_id": r.message_id, "from": self._bot_user(), "chat": chat.as_chat(), "date": r.date}
        if r.edited:
            m["edit_date"] = int(time.time())
        if r.reply_to is not None and (r.chat_id, r.reply_to) in self._messages:
            m["reply_to_message"] = self._messages[(r.chat_id, r.reply_to)]
        text_key, entities_key = ("text", "entities") if r.kind == "message" else ("caption", "caption_entities")
        if r.text is not None:
            m[text_key] = r.text
            if r.entities:
                m[entities_key] = r.entities
        if r.kind == "document":
            m["document"] = {"file_id": r.file_id, "file_unique_id": "U" + str(r.file_id), "file_name": r.filename,
                             "mime_type": r.mime_type, "file_size": len(r.data or b"")}
        elif r.kind == "photo":
            m["photo"] = [{"file_id": r.file_id, "file_unique_id": "U" + str(r.file_id), "width": 800, "height": 600,
                           "file_size": len(r.data or b"")}]
        elif r.kind in ("venue", "location"):
            loc = {"latitude": r.latitude, "longitude": r.longitude}
            m["location"] = loc
            if r.kind == "venue":
                m["venue"] = {"location": loc, "title": r.title, "address": r.address}
        if r.reply_markup and "inline_keyboard" in r.reply_markup:
            m["reply_markup"] = r.reply_markup
        return m

    def _m_sendmessage(self, p: dict, f: dict) -> dict[str, Any]:
        chat = self._chat_for(p.get("chat_id"))
        plain, entities = self._check_text(p.get("text"), p.get("parse_mode"))
        r = self._record(chat, "message", p, text=plain, raw_text=str(p["text"]), parse_mode=p.get("parse_mode"),
                         entities=entities)
        return self._messages[(chat.id, r.message_id)]

    def _media(self, p: dict, f: dict, field_name: str, folder: str, default_name: str | None) -> dict[str, Any]:
        value = p.get(field_name)
        upload = f.get(field_name)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = f.get(value[len("attach://"):])
        if upload is not None:
            filename, data, mime = upload
            filename = filename or default_name
            mime = mime or (mimetypes.guess_type(filename or "")[0] if filename else None) or "application/octet-stream"
            stored = self._store_file(data, filename, mime, folder)
            return {"file_id": stored.file_id, "filename": filename, "data": stored.data, "mime_type": mime}
        if isinstance(value, str) and value:
            stored = self._files.get(value)
            if stored is not None:
                return {"file_id": stored.file_id, "filename": stored.filename, "data": stored.data,
                        "mime_type": stored.mime_type}
            if value.startswith(("http://", "https://")):
                return {"file_id": None, "filename": value.rsplit("/", 1)[-1], "data": None, "mime_type": None}
            raise _bad("wrong file identifier/HTTP URL specified")
        raise _bad(f"there is no {field_name} in the request")

    def _caption(self, p: dict) -> dict[str, Any]:
        if p.get("caption") in (None, ""):
            return {}
        plain, entities = self._check_text(p["caption"], p.get("parse_mode"), caption=True)
        return {"text": plain, "raw_text": str(p["caption"]), "parse_mode": p.get("parse_mode"), "entities": entities}

    def _m_senddocument(self, p: dict, f: dict) -> dict[str, Any]:
        chat = self._chat_for(p.get("chat_id"))
        caption = self._caption(p)
        media = self._media(p, f, "document", "documents", "document")
        if media["data"] is not None and len(media["data"]) == 0:
            raise _bad("file must be non-empty")
        r = self._record(chat, "document", p, **caption, **media)
        return self._messages[(chat.id, r.message_id)]

    def _m_sendphoto(self, p: dict, f: dict) -> dict[str, Any]:
        chat = self._chat_for(p.get("chat_id"))
        caption = self._caption(p)
        media = self._media(p, f, "photo", "photos", "photo.jpg")
        r = self._record(chat, "photo", p, **caption, **media)
        return self._messages[(chat.id, r.message_id)]

    def _location(self, p: dict) -> dict[str, float]:
        try:
            lat, lon = float(p["latitude"]), float(p["longitude"])
        except (KeyError, TypeError, ValueError):
            raise _bad("latitude and longitude must be numbers") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise _bad("wrong latitude or longitude specified")
        return {"latitude": lat, "longitude": lon}

    def _m_sendlocation(self, p: dict, f: dict) -> dict[str, Any]:
        chat = self._chat_for(p.get("chat_id"))
        r = self._record(chat, "location", p, **self._location(p))
        return self._messages[(chat.id, r.message_id)]

    def _m_sendvenue(self, p: dict, f: dict) -> dict[str, Any]:
        chat = self._chat_for(p.get("chat_id"))
        loc = self._location(p)
        title, address = p.get("title"), p.get("address")
        if not title or address is None:
            raise _bad("title and address must be non-empty")
        r = self._record(chat, "venue", p, title=str(title), address=str(address), **loc)
        return self._messages[(chat.id, r.message_id)]

    # ---- editing
    def _editable(self, p: dict) -> SentMessage:
        if p.get("inline_message_id"):
            raise _bad("inline messages are not supported by the local Bot API")
        chat = self._chat_for(p.get("chat_id"))
        key = (chat.id, int(p.get("message_id") or 0))
        if key not in self._messages:
            raise _bad("message to edit not found")
        record = self._sent_index.get(key)
        if record is None:
            raise _bad("message can't be edited")
        if record.deleted:
            raise _bad("message to edit not found")
        return record

    def _apply_edit(self, record: SentMessage, **changes: Any) -> dict[str, Any]:
        before = (record.text, record.entities, record.reply_markup)
        after = (changes.get("text", record.text), changes.get("entities", record.entities),
                 changes.get("reply_markup", record.reply_markup))
        if _same(before, after):
            raise _bad(NOT_MODIFIED[len("Bad Request: "):])
        record.history.append((record.text, record.buttons))
        for k, v in changes.items():
            setattr(record, k, v)
        record.buttons = _buttons(record.reply_markup)
        record.edited = True
        self._store_sent(record)
        return self._messages[(record.chat_id, record.message_id)]

    def _m_editmessagetext(self, p: dict, f: dict) -> dict[str, Any]:
        record = self._editable(p)
        if record.kind != "message":
            raise _bad("there is no text in the message to edit")
        plain, entities = self._check_text(p.get("text"), p.get("parse_mode"))
        markup = _check_markup(p.get("reply_markup"))  # omitted → the inline keyboard is removed
        return self._apply_edit(record, text=plain, raw_text=str(p["text"]), parse_mode=p.get("parse_mode"),
                                entities=entities, reply_markup=markup)

    def _m_editmessagecaption(self, p: dict, f: dict) -> dict[str, Any]:
        record = self._editable(p)
        if record.kind == "message":
            raise _bad("there is no caption in the message to edit")
        caption = self._caption(p) or {"text": None, "raw_text": None, "parse_mode": None, "entities": []}
        return self._apply_edit(record, reply_markup=_check_markup(p.get("reply_markup")), **caption)

    def _m_editmessagereplymarkup(self, p: dict, f: dict) -> dict[str, Any]:
        record = self._editable(p)
        return self._apply_edit(record, reply_markup=_check_markup(p.get("reply_markup")))

    def _m_deletemessage(self, p: dict, f: dict) -> bool:
        chat = self._chat_for(p.get("chat_id"))
        key = (chat.id, int(p.get("message_id") or 0))
        if key not in self._messages:
            raise _bad("message to delete not found")
        del self._messages[key]
        record = self._sent_index.get(key)
        if record is not None:
            record.deleted = True
            self._notify()
            record.seq = self._seq
        return True

    # ---- files
    def _m_getfile(self, p: dict, f: dict) -> dict[str, Any]:
        stored = self._files.get(str(p.get("file_id", "")))
        if stored is None:
            raise _bad("invalid file_id")
        if len(stored.data) > MAX_DOWNLOAD_BYTES:
            raise _bad("file is too big")
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.data), "file_path": stored.file_path}
