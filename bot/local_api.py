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
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import mimetypes
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "BotApiError",
    "CallbackAnswer",
    "LocalBotApi",
    "SentMessage",
    "StoredFile",
    "application_is_busy",
    "parse_html",
]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # getFile refuses bigger files, as the cloud Bot API does

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


class BotApiError(Exception):
    """A Bot API error: `code` is the HTTP status / error_code, `description` Telegram's text."""

    def __init__(self, code: int, description: str):
        super().__init__(f"{code} {description}")
        self.code = code
        self.description = description

    def payload(self) -> dict[str, Any]:
        return {"ok": False, "error_code": self.code, "description": self.description}


def _bad(description: str) -> BotApiError:
    return BotApiError(400, f"Bad Request: {description}")


# --------------------------------------------------------------------------------------------------
# Formatting: Telegram's HTML dialect (and a light MarkdownV2 check)
# --------------------------------------------------------------------------------------------------

_HTML_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "span": "spoiler",
    "tg-spoiler": "spoiler", "code": "code", "pre": "pre", "a": "text_link", "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_ATTR_RE = re.compile(r"""\s*([A-Za-z0-9_-]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>"']+))?""")
_ENTITY_RE = re.compile(r"&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[A-Za-z]+);?")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _utf16_len(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


def _entity_error(message: str) -> BotApiError:
    return _bad(f"can't parse entities: {message}")


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram-flavoured HTML into (plain text, entities) or raise `BotApiError` with the
    description Telegram gives (e.g. 'Unsupported start tag "br" at byte offset 12')."""
    out: list[str] = []
    pos16 = 0  # current length of the output in UTF-16 code units (entity offsets use them)
    stack: list[dict[str, Any]] = []  # open tags: {"tag", "start", "attrs"}
    entities: list[dict[str, Any]] = []
    i, n = 0, len(text)

    def offset(k: int) -> int:
        return len(text[:k].encode("utf-8"))

    while i < n:
        c = text[i]
        if c == "&":
            m = _ENTITY_RE.match(text, i)
            ch = None
            if m:
                name = m.group(1)
                if name.startswith(("#x", "#X")):
                    ch = chr(int(name[2:], 16)) if int(name[2:], 16) <= 0x10FFFF else None
                elif name.startswith("#"):
                    ch = chr(int(name[1:])) if int(name[1:]) <= 0x10FFFF else None
                else:
                    ch = _NAMED.get(name)
            if ch is not None and m is not None:
                out.append(ch)
                pos16 += _utf16_len(ch)
                i = m.end()
            else:  # Telegram keeps an unknown entity as literal text
                out.append("&")
                pos16 += 1
                i += 1
            continue
        if c != "<":
            out.append(c)
            pos16 += _utf16_len(c)
            i += 1
            continue
        begin = i
        if i + 1 < n and text[i + 1] == "/":  # end tag
            if not stack:
                raise _entity_error(f"Unexpected end tag at byte offset {offset(begin)}")
            j = text.find(">", i + 2)
            if j < 0:
                raise _entity_error(f"Unclosed end tag at byte offset {offset(begin)}")
            name = text[i + 2 : j].strip().lower()
            top = stack[-1]
            if name and name != top["tag"]:
                raise _entity_error(f'Unmatched end tag at byte offset {offset(begin)}, expected "</{top["tag"]}>", '
                    f'found "</{name}>"',
                )
            stack.pop()
            _close_entity(top, pos16, entities)
            i = j + 1
            continue
        # start tag
        j = i + 1
        while j < n and not text[j].isspace() and text[j] != ">":
            j += 1
        if j >= n:
            raise _entity_error(f"Unclosed start tag at byte offset {offset(begin)}")
        name = text[i + 1 : j].lower()
        if name not in _HTML_TAGS:
            raise _entity_error(f'Unsupported start tag "{name}" at byte offset {offset(begin)}')
        attrs: dict[str, str] = {}
        while True:
            while j < n and text[j].isspace():
                j += 1
            if j >= n:
                raise _entity_error(f"Unclosed start tag at byte offset {offset(begin)}")
            if text[j] == ">":
                break
            m = _ATTR_RE.match(text, j)
            if not m or m.end() == j:
                raise _entity_error(f'Expected equal sign in declaration of an attribute of the tag "{name}" '
                    f"at byte offset {offset(begin)}",
                )
            value = m.group(2) or ""
            if value[:1] in ("'", '"'):
                value = value[1:-1]
            attrs[m.group(1).lower()] = html.unescape(value)
            j = m.end()
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise _entity_error('Tag "span" must have class "tg-spoiler"')
        stack.append({"tag": name, "start": pos16, "attrs": attrs, "parent": stack[-1] if stack else None})
        i = j + 1
    if stack:
        raise _entity_error(f'Can\'t find end tag corresponding to start tag "{stack[-1]["tag"]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _close_entity(tag: dict[str, Any], end16: int, entities: list[dict[str, Any]]) -> None:
    length = end16 - tag["start"]
    if length <= 0:
        return
    kind = _HTML_TAGS[tag["tag"]]
    entity: dict[str, Any] = {"type": kind, "offset": tag["start"], "length": length}
    attrs = tag["attrs"]
    if kind == "text_link":
        href = attrs.get("href", "")
        if not href:
            return
        entity["url"] = href
    elif kind == "code" and tag["parent"] is not None and tag["parent"]["tag"] == "pre":
        # <pre><code class="language-x">…</code></pre> is one pre entity with a language
        lang = attrs.get("class", "")
        if lang.startswith("language-"):
            tag["parent"]["attrs"]["language"] = lang[len("language-"):]
        return
    elif kind == "pre" and attrs.get("language"):
        entity["language"] = attrs["language"]
    elif kind == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = attrs.get("emoji-id", "")
    entities.append(entity)


_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MDV2_MARKUP = set("_*~|[]`")


def parse_markdown_v2(text: str) -> str:
    """Light MarkdownV2 check: reject unescaped reserved characters as Telegram does; return the
    text with markup characters and escapes removed (an approximation of what the user sees)."""
    out: list[str] = []
    i, n = 0, len(text)
    line_start = True
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n:
            out.append(text[i + 1])
            i += 2
            line_start = False
            continue
        if c == "`":
            fence = "```" if text.startswith("```", i) else "`"
            end = text.find(fence, i + len(fence))
            if end < 0:
                raise _entity_error(f"Can't find end of {'Pre' if fence == '```' else 'Code'} entity at byte offset "
                    f"{len(text[:i].encode())}"
                )
            out.append(text[i + len(fence) : end].replace("\\`", "`").replace("\\\\", "\\"))
            i = end + len(fence)
            continue
        if c == "]" and i + 1 < n and text[i + 1] == "(":
            end = i + 2
            while end < n and text[end] != ")":
                end += 2 if text[end] == "\\" else 1
            i = end + 1
            continue
        if c == ">" and line_start:
            i += 1
            line_start = False
            continue
        if c in _MDV2_MARKUP:
            i += 1
            line_start = False
            continue
        if c in _MDV2_RESERVED:
            raise _entity_error(f"Character '{c}' is reserved and must be escaped with the preceding '\\'")
        out.append(c)
        line_start = c == "\n"
        i += 1
    return "".join(out)


def _parse_legacy_markdown(text: str) -> str:
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"[*_`]", "", text)


def format_text(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    mode = (parse_mode or "").lower()
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown_v2(text), []
    if mode == "markdown":
        return _parse_legacy_markdown(text), []
    if mode:
        raise _bad(f"unsupported parse_mode {parse_mode}")
    return text, []


# --------------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------------

Button = tuple[str, str | None]


@dataclass
class SentMessage:
    """One message the bot sent, as the user now sees it (edits update it in place)."""

    chat_id: int
    message_id: int
    kind: str  # "message" | "document" | "photo" | "venue" | "location"
    text: str | None = None  # text or caption as displayed (markup removed, entities decoded)
    raw_text: str | None = None  # text or caption exactly as the bot sent it
    parse_mode: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    buttons: list[list[Button]] = field(default_factory=list)  # inline keyboard: (text, data or url)
    reply_markup: dict[str, Any] | None = None  # as sent (inline keyboard, reply keyboard, remove...)
    reply_to: int | None = None
    filename: str | None = None
    data: bytes | None = None
    mime_type: str | None = None
    file_id: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    title: str | None = None
    address: str | None = None
    edited: bool = False
    deleted: bool = False
    history: list[tuple[str | None, list[list[Button]]]] = field(default_factory=list)  # before each edit
    seq: int = 0  # change counter value of the last send/edit/delete
    date: int = 0

    @property
    def caption(self) -> str | None:
        return self.text if self.kind != "message" else None

    @property
    def button_texts(self) -> list[str]:
        return [t for row in self.buttons for t, _ in row]

    @property
    def reply_keyboard(self) -> list[list[str]] | None:
        rows = (self.reply_markup or {}).get("keyboard")
        if rows is None:
            return None
        return [[b if isinstance(b, str) else b.get("text", "") for b in row] for row in rows]

    def button(self, text_contains: str) -> Button:
        """The first inline button whose text contains `text_contains` (KeyError if none)."""
        for row in self.buttons:
            for t, d in row:
                if text_contains in t:
                    return t, d
        raise KeyError(f"no button containing {text_contains!r} in {self.button_texts}")

    def callback_data(self, text_contains: str) -> str:
        data = self.button(text_contains)[1]
        if data is None:
            raise KeyError(f"button {text_contains!r} has no callback data")
        return data


@dataclass
class CallbackAnswer:
    callback_query_id: str
    user_id: int
    data: str | None
    text: str | None = None
    show_alert: bool = False
    url: str | None = None
    seq: int = 0


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    filename: str | None = None
    mime_type: str | None = None


@dataclass
class _User:
    id: int
    first_name: str
    language_code: str | None
    username: str | None = None
    blocked: bool = False
    chat_type: str = "private"  # "group", "supergroup" or "channel" for the chats made by *_in_group/channel

    def as_user(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            d["username"] = self.username
        if self.language_code:
            d["language_code"] = self.language_code
        return d

    def as_chat(self) -> dict[str, Any]:
        if self.chat_type != "private":
            return {"id": self.id, "type": self.chat_type, "title": self.first_name}
        d: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.username:
            d["username"] = self.username
        return d


def application_is_busy(application: Any) -> bool:
    """True while a PTB Application still has updates queued or being processed (duck-typed so this
    module does not import telegram). Pass `busy=lambda: application_is_busy(app)` to
    `wait_until_idle` to wait for handlers that think for a while before they answer."""
    if not application.update_queue.empty():
        return True
    return application.update_processor.current_concurrent_updates > 0


# --------------------------------------------------------------------------------------------------
# The API
# --------------------------------------------------------------------------------------------------

_BOT_COMMAND_RE = re.compile(r"^/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{3,32})?")
_ACCEPTED_METHODS = {  # methods we accept and record without modelling them further
    "setchatmenubutton", "deletemycommands", "setmydescription", "setmyshortdescription", "setmyname",
    "setmydefaultadministratorrights", "close", "logout", "setwebhook", "pinchatmessage",
    "unpinchatmessage",
}


class LocalBotApi:
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

    def _user_message(self, user_id: int, first_name: str | None, language_code: str | None,
                      reply_to: int | None = None, **content: Any) -> dict[str, Any]:
        with self._lock:
            user = self._user(user_id, first_name, language_code)
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

    def user_sends_text(self, user_id: int, text: str, *, first_name: str | None = None,
                        language_code: str | None = "zh", reply_to: int | None = None) -> dict[str, Any]:
        """The user types `text`. A leading /command gets the bot_command entity Telegram adds.
        Returns the Message object (dict) the bot will receive."""
        content: dict[str, Any] = {"text": text}
        m = _BOT_COMMAND_RE.match(text)
        if m:
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": _utf16_len(m.group(0))}]
        return self._user_message(user_id, first_name, language_code, reply_to, **content)

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

    def user_shares_location(self, user_id: int, latitude: float, longitude: float, *,
                             first_name: str | None = None, language_code: str | None = "zh") -> dict[str, Any]:
        return self._user_message(user_id, first_name, language_code,
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
                            caption: str | None = None, first_name: str | None = None,
                            language_code: str | None = "zh") -> dict[str, Any]:
        mime_type = mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        with self._lock:
            f = self._store_file(data, filename, mime_type, "documents")
            doc = {"file_id": f.file_id, "file_unique_id": f.file_unique_id, "file_name": filename,
                   "mime_type": mime_type, "file_size": len(f.data)}
            extra = {"caption": caption} if caption else {}
            return self._user_message(user_id, first_name, language_code, document=doc, **extra)

    def user_sends_photo(self, user_id: int, data: bytes, *, caption: str | None = None, width: int = 800,
                         height: int = 600, first_name: str | None = None,
                         language_code: str | None = "zh") -> dict[str, Any]:
        with self._lock:
            f = self._store_file(data, "photo.jpg", "image/jpeg", "photos")
            sizes = [{"file_id": f.file_id, "file_unique_id": f.file_unique_id, "width": width,
                      "height": height, "file_size": len(f.data)}]
            extra = {"caption": caption} if caption else {}
            return self._user_message(user_id, first_name, language_code, photo=sizes, **extra)

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


# --------------------------------------------------------------------------------------------------
# helpers for parameters
# --------------------------------------------------------------------------------------------------

def _as_obj(value: Any) -> Any:
    if isinstance(value, str | bytes):
        try:
            return json.loads(value)
        except ValueError:
            raise _bad("can't parse JSON object") from None
    return value


def _reply_to(p: dict) -> int | None:
    params = _as_obj(p.get("reply_parameters"))
    if isinstance(params, dict) and params.get("message_id") is not None:
        return int(params["message_id"])
    if p.get("reply_to_message_id") is not None:
        return int(p["reply_to_message_id"])
    return None


_INLINE_ACTIONS = ("callback_data", "url", "login_url", "switch_inline_query", "switch_inline_query_current_chat",
                   "switch_inline_query_chosen_chat", "callback_game", "pay", "web_app", "copy_text")


def _check_markup(value: Any) -> dict[str, Any] | None:
    markup = _as_obj(value)
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise _bad("can't parse inline keyboard button: field \"inline_keyboard\" must be an Array of Arrays")
        for row in rows:
            for b in row:
                if not isinstance(b, dict) or not str(b.get("text", "")):
                    raise _bad("can't parse inline keyboard button: Text must be non-empty")
                if not any(k in b for k in _INLINE_ACTIONS):
                    raise _bad("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
                if "callback_data" in b and len(str(b["callback_data"]).encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
                    raise _bad("BUTTON_DATA_INVALID")
                if "url" in b and not re.match(r"^(https?|tg)://\S+$", str(b["url"])):
                    raise _bad("BUTTON_URL_INVALID")
    elif "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise _bad("can't parse reply keyboard markup JSON object")
        if not any(rows):
            raise _bad("reply keyboard must not be empty")
    elif not ({"remove_keyboard", "force_reply"} & markup.keys()):
        raise _bad("can't parse reply keyboard markup JSON object")
    return markup


def _buttons(markup: dict[str, Any] | None) -> list[list[Button]]:
    if not markup or "inline_keyboard" not in markup:
        return []
    return [[(b["text"], b.get("callback_data", b.get("url"))) for b in row] for row in markup["inline_keyboard"]]


def _same(a: Iterable[Any], b: Iterable[Any]) -> bool:
    def norm(markup: Any) -> Any:
        return _buttons(markup) if isinstance(markup, dict) and "inline_keyboard" in markup else None

    (ta, ea, ma), (tb, eb, mb) = a, b
    return ta == tb and (ea or []) == (eb or []) and norm(ma) == norm(mb)
