"""Records of the in-memory Bot API (`bot.local_api`): messages the bot sent, callback answers, stored files,
the users and chats it talks to."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypedDict

from bot.local_api_format import Button

# --------------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------------


class Sender(TypedDict, total=False):
    """Who a user action comes from, as keywords of every `user_*` method: the user's first name (kept when
    omitted) and their Telegram app's language code ("zh" when omitted; None sends none)."""

    first_name: str | None
    language_code: str | None


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
        d = self._named({"id": self.id, "is_bot": False, "first_name": self.first_name})
        if self.language_code:
            d["language_code"] = self.language_code
        return d

    def as_chat(self) -> dict[str, Any]:
        if self.chat_type != "private":
            return {"id": self.id, "type": self.chat_type, "title": self.first_name}
        return self._named({"id": self.id, "type": "private", "first_name": self.first_name})

    def _named(self, d: dict[str, Any]) -> dict[str, Any]:
        """`d` with the user's @username when they have one (a Telegram user and their private chat alike)."""
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
