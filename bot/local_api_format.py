"""Bot API text formatting for the in-memory API (`bot.local_api`): HTML / MarkdownV2 parsing into text and
entities with Telegram's error texts, reply-markup checks, and the limits and errors the server applies."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from typing import Any

Button = tuple[str, str | None]
_BOT_COMMAND_RE = re.compile(r"^/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{3,32})?")

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
    return _HtmlParser(text).parse()


class _HtmlParser:
    """One pass over Telegram HTML: plain text out, entities with UTF-16 offsets, Telegram's error texts."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.out: list[str] = []
        self.pos16 = 0  # current length of the output in UTF-16 code units (entity offsets use them)
        self.stack: list[dict[str, Any]] = []  # open tags: {"tag", "start", "attrs", "parent"}
        self.entities: list[dict[str, Any]] = []

    def parse(self) -> tuple[str, list[dict[str, Any]]]:
        text, i = self.text, 0
        while i < len(text):
            c = text[i]
            if c == "&":
                i = self._char_reference(i)
            elif c != "<":
                self._emit(c)
                i += 1
            elif i + 1 < len(text) and text[i + 1] == "/":
                i = self._end_tag(i)
            else:
                i = self._start_tag(i)
        if self.stack:
            raise _entity_error(f'Can\'t find end tag corresponding to start tag "{self.stack[-1]["tag"]}"')
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), self.entities

    def _offset(self, k: int) -> int:
        return len(self.text[:k].encode("utf-8"))

    def _emit(self, chars: str) -> None:
        self.out.append(chars)
        self.pos16 += _utf16_len(chars)

    def _char_reference(self, i: int) -> int:
        m = _ENTITY_RE.match(self.text, i)
        ch = _decode_reference(m.group(1)) if m else None
        if ch is None or m is None:  # Telegram keeps an unknown entity as literal text
            self._emit("&")
            return i + 1
        self._emit(ch)
        return m.end()

    def _end_tag(self, begin: int) -> int:
        if not self.stack:
            raise _entity_error(f"Unexpected end tag at byte offset {self._offset(begin)}")
        j = self.text.find(">", begin + 2)
        if j < 0:
            raise _entity_error(f"Unclosed end tag at byte offset {self._offset(begin)}")
        name = self.text[begin + 2 : j].strip().lower()
        top = self.stack[-1]
        if name and name != top["tag"]:
            raise _entity_error(f'Unmatched end tag at byte offset {self._offset(begin)}, expected "</{top["tag"]}>", '
                f'found "</{name}>"',
            )
        self.stack.pop()
        _close_entity(top, self.pos16, self.entities)
        return j + 1

    def _start_tag(self, begin: int) -> int:
        text, n = self.text, len(self.text)
        j = begin + 1
        while j < n and not text[j].isspace() and text[j] != ">":
            j += 1
        if j >= n:
            raise _entity_error(f"Unclosed start tag at byte offset {self._offset(begin)}")
        name = text[begin + 1 : j].lower()
        if name not in _HTML_TAGS:
            raise _entity_error(f'Unsupported start tag "{name}" at byte offset {self._offset(begin)}')
        attrs, j = self._attributes(name, begin, j)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise _entity_error('Tag "span" must have class "tg-spoiler"')
        self.stack.append({"tag": name, "start": self.pos16, "attrs": attrs,
                           "parent": self.stack[-1] if self.stack else None})
        return j + 1

    def _attributes(self, name: str, begin: int, j: int) -> tuple[dict[str, str], int]:
        """The attributes of the start tag `name` from `j` on, and the position of its closing '>'."""
        text, n = self.text, len(self.text)
        attrs: dict[str, str] = {}
        while True:
            while j < n and text[j].isspace():
                j += 1
            if j >= n:
                raise _entity_error(f"Unclosed start tag at byte offset {self._offset(begin)}")
            if text[j] == ">":
                return attrs, j
            m = _ATTR_RE.match(text, j)
            if not m or m.end() == j:
                raise _entity_error(f'Expected equal sign in declaration of an attribute of the tag "{name}" '
                    f"at byte offset {self._offset(begin)}",
                )
            value = m.group(2) or ""
            if value[:1] in ("'", '"'):
                value = value[1:-1]
            attrs[m.group(1).lower()] = html.unescape(value)
            j = m.end()


def _decode_reference(name: str) -> str | None:
    """The character of `&name;` (numeric or one of the four named ones Telegram knows), else None."""
    if name.startswith(("#x", "#X")):
        return chr(int(name[2:], 16)) if int(name[2:], 16) <= 0x10FFFF else None
    if name.startswith("#"):
        return chr(int(name[1:])) if int(name[1:]) <= 0x10FFFF else None
    return _NAMED.get(name)


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
        _check_inline_keyboard(markup["inline_keyboard"])
    elif "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise _bad("can't parse reply keyboard markup JSON object")
        if not any(rows):
            raise _bad("reply keyboard must not be empty")
    elif not ({"remove_keyboard", "force_reply"} & markup.keys()):
        raise _bad("can't parse reply keyboard markup JSON object")
    return markup


def _check_inline_keyboard(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise _bad("can't parse inline keyboard button: field \"inline_keyboard\" must be an Array of Arrays")
    for row in rows:
        for button in row:
            _check_inline_button(button)


def _check_inline_button(b: Any) -> None:
    if not isinstance(b, dict) or not str(b.get("text", "")):
        raise _bad("can't parse inline keyboard button: Text must be non-empty")
    if not any(k in b for k in _INLINE_ACTIONS):
        raise _bad("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
    if "callback_data" in b and len(str(b["callback_data"]).encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
        raise _bad("BUTTON_DATA_INVALID")
    if "url" in b and not re.match(r"^(https?|tg)://\S+$", str(b["url"])):
        raise _bad("BUTTON_URL_INVALID")


def _buttons(markup: dict[str, Any] | None) -> list[list[Button]]:
    if not markup or "inline_keyboard" not in markup:
        return []
    return [[(b["text"], b.get("callback_data", b.get("url"))) for b in row] for row in markup["inline_keyboard"]]


def _same(a: Iterable[Any], b: Iterable[Any]) -> bool:
    def norm(markup: Any) -> Any:
        return _buttons(markup) if isinstance(markup, dict) and "inline_keyboard" in markup else None

    (ta, ea, ma), (tb, eb, mb) = a, b
    return ta == tb and (ea or []) == (eb or []) and norm(ma) == norm(mb)
