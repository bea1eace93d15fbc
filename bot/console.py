"""Console mode: chat with the real bot (same Application, same handlers) in a terminal.

The python-telegram-bot Application runs against an in-process `LocalBotApi`: what you type becomes a
Telegram update from a private chat, and what the bot sends is printed — text with HTML rendered for
the terminal, inline buttons numbered (type the number to tap one), venues, and documents saved
under `data/console_downloads/`.
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, TextIO

from telegram.ext import Application

from bot.console_transport import LocalRequest, start_application, stop_application
from bot.local_api import LocalBotApi, SentMessage, application_is_busy
from db.filing.summary import human_size

__all__ = ["BANNER", "ConsoleOptions", "console_main", "render_html", "run_console"]

ApplicationFactory = Callable[[LocalRequest, LocalRequest], Application]


@dataclass
class ConsoleOptions:
    """Who chats and through what: the console user's id, language and name, the text streams, where
    documents the bot sends are saved, the Bot API to run against and how long to wait for a reply."""

    user_id: int = 10001
    language: str = "zh"
    first_name: str = "家长"
    input_stream: TextIO = field(default_factory=lambda: sys.stdin)
    output_stream: TextIO = field(default_factory=lambda: sys.stdout)
    download_dir: Path = Path("data") / "console_downloads"
    api: LocalBotApi | None = None
    reply_timeout: float = 120.0

BANNER = """\
托育助手 · 本地控制台模式（不连接 Telegram，使用与 Telegram 相同的处理程序）
  直接输入文字即发送消息，/start 开始，/help 查看帮助
  输入数字（如 1）= 点击最近一条带按钮消息中对应编号的按钮；输入 \\1 则把“1”作为文字发送
  /location 纬度,经度 = 发送位置，例如 /location 24.48,118.09
  /file 路径 = 上传本地文件（PDF、DOCX 等）
  /quit 或 Ctrl-D = 退出
Tuoyu assistant · local console mode (no Telegram connection, same handlers as on Telegram)
  Type a message and press Enter; /start to begin. A number taps that button of the last message
  with buttons (\\1 sends "1" as text). /location LAT,LON shares a location, /file PATH uploads a
  file, /quit or Ctrl-D exits.
"""

_ANSI = {"b": "1", "strong": "1", "i": "3", "em": "3", "u": "4", "ins": "4", "s": "9", "strike": "9", "del": "9"}


class _HtmlToTerminal(HTMLParser):
    """Telegram HTML → terminal text: styles as ANSI (only on a tty), links as 'text (url)'."""

    def __init__(self, color: bool):
        super().__init__(convert_charrefs=True)
        self.color = color
        self.parts: list[str] = []
        self.links: list[tuple[str, int]] = []  # (href, index in parts where the link text starts)
        self.styles: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.links.append((dict(attrs).get("href") or "", len(self.parts)))
        elif tag in _ANSI and self.color:
            self.styles.append(_ANSI[tag])
            self.parts.append(f"\033[{_ANSI[tag]}m")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.links:
            href, start = self.links.pop()
            text = re.sub(r"\033\[[0-9;]*m", "", "".join(self.parts[start:]))
            if href and href != text:
                self.parts.append(f" ({href})")
        elif tag in _ANSI and self.color and self.styles:
            self.styles.pop()
            self.parts.append("\033[0m" + "".join(f"\033[{s}m" for s in self.styles))

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def render_html(text: str, *, color: bool = False) -> str:
    parser = _HtmlToTerminal(color)
    parser.feed(text)
    parser.close()
    return "".join(parser.parts)


def _render_text(message: SentMessage, color: bool) -> str:
    if message.raw_text is None:
        return ""
    if (message.parse_mode or "").lower() == "html":
        return render_html(message.raw_text, color=color)
    return message.text or ""


_LOCATION_RE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*[,，\s]\s*(-?\d+(?:\.\d+)?)\s*$")


class _Console:
    """Prints what the bot sends to one chat and turns typed lines into user actions."""

    def __init__(self, api: LocalBotApi, options: ConsoleOptions):
        self.api = api
        self.user_id = options.user_id
        self.language = options.language
        self.first_name = options.first_name
        self.out = options.output_stream
        self.color = bool(getattr(self.out, "isatty", lambda: False)())
        self.download_dir = Path(options.download_dir)
        self.seen_seq = 0
        self.answers_seen = 0
        self.printed: set[tuple[int, int]] = set()
        # numbered choices of the last message with buttons: (kind, value, message_id)
        self.choices: list[tuple[str, str, int]] = []
        self.choices_from: int | None = None

    def write(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    # ---------------------------------------------------------------- output
    def flush(self) -> None:
        """Print every bot message sent/edited/deleted and callback answer not printed yet."""
        changes = self.api.changes_since(self.seen_seq, self.user_id)
        answers = self.api.callback_answers[self.answers_seen:]
        self.answers_seen += len(answers)
        events: list[tuple[int, Any]] = [(m.seq, m) for m in changes] + [(a.seq, a) for a in answers]
        for _, item in sorted(events, key=lambda e: e[0]):
            if isinstance(item, SentMessage):
                self.seen_seq = max(self.seen_seq, item.seq)
                self._print_message(item)
            elif item.user_id == self.user_id and item.text:
                self.write(("  ⚠️ " if item.show_alert else "  💬 ") + item.text)

    def _print_message(self, m: SentMessage) -> None:
        key = (m.chat_id, m.message_id)
        if m.deleted:
            if key in self.printed:
                self.write("🤖 (消息已删除 message deleted)")
            if self.choices_from == m.message_id:
                self.choices, self.choices_from = [], None
            return
        marker = "(已更新 updated) " if key in self.printed else ""
        self.printed.add(key)
        lines: list[str] = []
        if m.kind == "venue":
            lines.append(f"📍 {m.title}, {m.address} ({m.latitude:.5f}, {m.longitude:.5f})")
        elif m.kind == "location":
            lines.append(f"📍 ({m.latitude:.5f}, {m.longitude:.5f})")
        elif m.kind in ("document", "photo"):
            icon = "📄" if m.kind == "document" else "🖼"
            name = m.filename or ("photo.jpg" if m.kind == "photo" else "document")
            if m.data is None:
                lines.append(f"{icon} {name}")
            else:
                saved = self._save(name, m.data)
                lines.append(f"{icon} {name} ({human_size(len(m.data), kb_decimals=1)}) saved to {saved}")
        text = _render_text(m, self.color)
        if text:
            lines.extend(text.split("\n"))
        lines = lines or [""]
        self.write(f"🤖 {marker}{lines[0]}")
        for line in lines[1:]:
            self.write(f"   {line}")
        self._print_keyboard(m)

    def _print_keyboard(self, m: SentMessage) -> None:
        markup = m.reply_markup or {}
        if m.buttons:
            self.choices, self.choices_from = [], m.message_id
            for row in markup.get("inline_keyboard", []):
                cells = []
                for b in row:
                    if "callback_data" in b:
                        self.choices.append(("callback", b["callback_data"], m.message_id))
                        cells.append(f"[{len(self.choices)}] {b['text']}")
                    elif "url" in b:
                        self.choices.append(("url", b["url"], m.message_id))
                        cells.append(f"[{len(self.choices)}] {b['text']} ({b['url']})")
                    else:
                        cells.append(f"[-] {b['text']}")
                self.write("   " + "  ".join(cells))
        elif "keyboard" in markup:
            self.choices, self.choices_from = [], m.message_id
            for row in markup["keyboard"]:
                cells = []
                for b in row:
                    label = b if isinstance(b, str) else b.get("text", "")
                    kind = "location" if isinstance(b, dict) and b.get("request_location") else "reply"
                    self.choices.append((kind, label, m.message_id))
                    cells.append(f"[{len(self.choices)}] {label}")
                self.write("   ⌨ " + "  ".join(cells))
        elif self.choices_from == m.message_id:  # its keyboard was edited away
            self.choices, self.choices_from = [], None
        elif "remove_keyboard" in markup and any(kind != "callback" for kind, _, _ in self.choices):
            self.choices, self.choices_from = [], None  # the reply keyboard is gone

    def _save(self, filename: str, data: bytes) -> Path:
        self.download_dir.mkdir(parents=True, exist_ok=True)
        name = Path(filename.replace("\\", "/")).name or "file"
        target = self.download_dir / name
        stem, suffix = target.stem, target.suffix
        n = 1
        while target.exists() and target.read_bytes() != data:
            target = self.download_dir / f"{stem}-{n}{suffix}"
            n += 1
        target.write_bytes(data)
        return target

    # ---------------------------------------------------------------- input
    def handle(self, line: str) -> bool:
        """Act on one typed line; False when nothing was sent to the bot."""
        kw = {"first_name": self.first_name, "language_code": self.language}
        stripped = line.strip()
        if stripped.startswith("/location"):
            m = _LOCATION_RE.match(stripped[len("/location"):])
            if not m:
                self.write("用法 usage: /location 纬度,经度  e.g. /location 24.48,118.09")
                return False
            lat, lon = float(m.group(1)), float(m.group(2))
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                self.write("坐标超出范围 coordinates out of range")
                return False
            self.api.user_shares_location(self.user_id, lat, lon, **kw)
            return True
        if stripped.startswith("/file"):
            return self._send_file(stripped[len("/file"):].strip(), kw)
        if stripped.startswith("\\"):
            self.api.user_sends_text(self.user_id, stripped[1:], **kw)
            return True
        if stripped.isdigit() and 1 <= int(stripped) <= len(self.choices):
            return self._choose(int(stripped), kw)
        self.api.user_sends_text(self.user_id, line, **kw)
        return True

    def _send_file(self, raw_path: str, kw: dict[str, Any]) -> bool:
        path = Path(raw_path.strip("'\"")).expanduser()
        if not raw_path or not path.is_file():
            self.write(f"找不到文件 file not found: {raw_path or '(empty)'}  用法 usage: /file PATH")
            return False
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        self.api.user_sends_document(self.user_id, path.name, path.read_bytes(), mime, **kw)
        self.write(f"   (已上传 uploaded {path.name}, {human_size(path.stat().st_size, kb_decimals=1)})")
        return True

    def _choose(self, number: int, kw: dict[str, Any]) -> bool:
        kind, value, message_id = self.choices[number - 1]
        if kind == "url":
            self.write(f"   🔗 {value}")
            return False
        if kind == "location":
            self.write("   请用 /location 纬度,经度 发送位置 (use /location LAT,LON to share a location)")
            return False
        if kind == "reply":
            self.api.user_sends_text(self.user_id, value, **kw)
            return True
        try:
            self.api.user_taps_button(self.user_id, message_id, value, stale_ok=True)
        except LookupError:
            self.write("   该消息已不存在 that message is gone")
            return False
        return True


def _start_reader(stream: TextIO, loop: asyncio.AbstractEventLoop) -> asyncio.Queue[str | None]:
    """Read lines in a daemon thread (so polling continues and Ctrl-C never waits for Enter)."""
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def put(item: str | None) -> None:
        with contextlib.suppress(RuntimeError):  # loop already closed at exit
            loop.call_soon_threadsafe(queue.put_nowait, item)

    def read() -> None:
        try:
            for line in iter(stream.readline, ""):
                put(line.rstrip("\r\n"))
        except (OSError, ValueError):
            pass
        put(None)

    threading.Thread(target=read, name="console-input", daemon=True).start()
    return queue


async def run_console(application_factory: ApplicationFactory, options: ConsoleOptions | None = None) -> None:
    """Chat with the Application built by `application_factory(request, get_updates_request)`
    from a terminal (or any text streams) until /quit, EOF or Ctrl-C."""
    options = options or ConsoleOptions()
    api = options.api or LocalBotApi()
    application = application_factory(LocalRequest(api), LocalRequest(api))
    console = _Console(api, options)
    echo_input = not bool(getattr(options.input_stream, "isatty", lambda: False)())
    console.write(BANNER)
    await start_application(application, poll_timeout=10)

    async def printer() -> None:
        seq = 0
        while True:
            seq = await api.wait_for_change(seq)
            console.flush()

    printer_task = asyncio.create_task(printer())
    lines = _start_reader(options.input_stream, asyncio.get_running_loop())
    try:
        await _chat_loop(console, lines, application, options, echo_input)
    finally:
        printer_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await printer_task
        try:
            await stop_application(application)
        finally:
            console.flush()
            console.write("\n再见 Bye." if not echo_input else "再见 Bye.")


async def _chat_loop(console: _Console, lines: asyncio.Queue[str | None], application: Application,
                     options: ConsoleOptions, echo_input: bool) -> None:
    """Turn each typed line into a user action and print the replies, until /quit, /exit or EOF."""
    while True:
        if not echo_input:
            options.output_stream.write("你 you> ")
            options.output_stream.flush()
        line = await lines.get()
        if line is None or line.strip() in ("/quit", "/exit"):
            return
        if not line.strip():
            continue
        if echo_input:
            console.write(f"你 you> {line}")
        if console.handle(line):
            with contextlib.suppress(TimeoutError):
                await console.api.wait_until_idle(quiet=0.1, timeout=options.reply_timeout,
                                                  busy=lambda: application_is_busy(application))
            console.flush()


def console_main(application_factory: ApplicationFactory, options: ConsoleOptions | None = None) -> int:
    """Blocking entry point for `python -m bot chat`: runs the console, Ctrl-C exits quietly."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_console(application_factory, options))
    return 0
