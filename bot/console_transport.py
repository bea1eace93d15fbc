"""Plug python-telegram-bot into a `LocalBotApi` in-process (console mode, fast tests).

    api = LocalBotApi()
    app = (ApplicationBuilder().token("123:LOCAL")
           .request(LocalRequest(api)).get_updates_request(LocalRequest(api)).build())
    async with running_application(app):
        api.user_sends_text(10001, "/start")
        reply = await api.wait_for_bot()
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote, urlsplit

from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

from bot.local_api import BotApiError, LocalBotApi

__all__ = ["LocalRequest", "running_application", "start_application", "stop_application"]


def _read(content: Any) -> bytes:
    if isinstance(content, bytes | bytearray | memoryview):
        return bytes(content)
    if hasattr(content, "read"):  # PTB ≥ 21.5 may hand over an open file
        data = content.read()
        return data.encode() if isinstance(data, str) else bytes(data)
    return str(content).encode()


class LocalRequest(BaseRequest):
    """A `telegram.request.BaseRequest` answering from a `LocalBotApi` instead of the network.

    Bot API calls (`.../bot<token>/<method>`) go to `api.call`; file downloads
    (`.../file/bot<token>/<file_path>`) are served from `api.file_bytes`. Responses are the JSON
    Telegram would send, so PTB's own error handling (BadRequest, Forbidden, ...) is exercised."""

    def __init__(self, api: LocalBotApi, *, read_timeout: float | None = 5.0):
        self.api = api
        self._read_timeout = read_timeout

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(  # noqa: PLR0913 - the signature of telegram.request.BaseRequest.do_request
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        path = urlsplit(url).path
        if "/file/bot" in path:
            file_path = unquote(path.split("/file/bot", 1)[1].split("/", 1)[-1])
            try:
                return 200, self.api.file_bytes(file_path)
            except BotApiError as exc:
                return exc.code, json.dumps(exc.payload()).encode()
        api_method = path.rstrip("/").rsplit("/", 1)[-1]
        params: dict[str, Any] = dict(request_data.parameters) if request_data else {}
        files: dict[str, tuple[str | None, bytes, str | None]] = {}
        if request_data is not None and request_data.contains_files:
            for name, (filename, content, mime) in request_data.multipart_data.items():
                files[name] = (filename, _read(content), mime)
        try:
            result = await self.api.call(api_method, params, files)
        except BotApiError as exc:
            return exc.code, json.dumps(exc.payload(), ensure_ascii=False).encode()
        return 200, json.dumps({"ok": True, "result": result}, ensure_ascii=False).encode()


async def start_application(application: Application, *, poll_timeout: float = 1.0) -> None:
    """initialize(), post_init, start() and updater.start_polling(), as `Application.run_polling` does."""
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)
    await application.start()
    if application.updater is not None:
        await application.updater.start_polling(poll_interval=0, timeout=poll_timeout)


async def stop_application(application: Application) -> None:
    """Undo `start_application`, tolerating a partial start."""
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
    await application.shutdown()
    if application.post_shutdown is not None:
        await application.post_shutdown(application)


@contextlib.asynccontextmanager
async def running_application(application: Application, *, poll_timeout: float = 1.0) -> AsyncIterator[Application]:
    """`async with running_application(app):` — the application polls for the duration."""
    try:
        await start_application(application, poll_timeout=poll_timeout)
        yield application
    finally:
        await stop_application(application)
