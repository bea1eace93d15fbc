"""A fake Telegram Bot API HTTP server on 127.0.0.1 backed by `bot.local_api.LocalBotApi`.

The real python-telegram-bot Application talks to it over HTTP (HTTPX) by pointing `base_url` and
`base_file_url` at it:

    with FakeBotApiServer() as server:
        app = (ApplicationBuilder().token("123:ABC")
               .base_url(server.base_url).base_file_url(server.base_file_url).build())
        ...
        server.api.user_sends_text(10001, "/start")

Routes: `POST|GET /bot<token>/<method>` (form-urlencoded, JSON or multipart/form-data bodies, or a
query string) and `GET /file/bot<token>/<file_path>`. Each request is answered in its own thread,
which runs the API coroutine on a private event loop; `stop()` ends waiting long polls, stops the
server and joins every thread.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from bot.local_api import BotApiError, LocalBotApi

__all__ = ["FakeBotApiServer", "decode_form_params", "parse_multipart"]

# Form values arrive as strings; PTB JSON-encodes every non-string value. These parameters are
# strings in the Bot API and are never JSON-decoded (a text "123" must stay "123").
STRING_PARAMS = {
    "text", "caption", "parse_mode", "title", "address", "callback_query_id", "file_id", "action",
    "url", "document", "photo", "audio", "video", "voice", "sticker", "animation", "description",
    "short_description", "name", "language_code", "emoji", "query", "inline_message_id",
    "foursquare_id", "foursquare_type", "google_place_id", "google_place_type", "secret_token",
    "business_connection_id", "message_effect_id",
}


def decode_form_params(raw: dict[str, str]) -> dict[str, Any]:
    """Turn PTB's form fields (strings, JSON for non-strings) back into Bot API values."""
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if key in STRING_PARAMS:
            params[key] = value
            continue
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params


_PARAM_RE = re.compile(r'(\w+)\*?="((?:[^"\\]|\\.)*)"|(\w+)=([^;\s]+)')


def _header_params(value: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for m in _PARAM_RE.finditer(value):
        if m.group(1):
            found[m.group(1).lower()] = re.sub(r"\\(.)", r"\1", m.group(2))
        else:
            found[m.group(3).lower()] = m.group(4)
    return found


def parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, str], dict[str, tuple[str | None, bytes, str | None]]]:
    """Parse a multipart/form-data body into (text fields, files). Filenames may be raw UTF-8
    (what HTTPX sends) or percent-encoded."""
    boundary = _header_params(content_type).get("boundary")
    if not boundary:
        raise BotApiError(400, "Bad Request: multipart boundary missing")
    fields: dict[str, str] = {}
    files: dict[str, tuple[str | None, bytes, str | None]] = {}
    delimiter = b"--" + boundary.encode("latin-1")
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        part = part[2:] if part.startswith(b"\r\n") else part
        head, _, content = part.partition(b"\r\n\r\n")
        if content.endswith(b"\r\n"):
            content = content[:-2]
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        disposition = _header_params(headers.get("content-disposition", ""))
        name = disposition.get("name")
        if name is None:
            continue
        if "filename" in disposition:
            filename = disposition["filename"]
            if "%" in filename:
                filename = unquote(filename)
            files[name] = (filename, content, headers.get("content-type"))
        else:
            fields[name] = content.decode("utf-8")
    return fields, files


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"  # one request per connection: no idle keep-alive threads

    def log_message(self, format: str, *args: Any) -> None:  # silence the default stderr log
        return None

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _send(self, code: int, body: bytes, content_type: str = "application/json") -> None:
        try:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (e.g. a cancelled poll)
            pass

    def _send_json(self, code: int, payload: dict[str, Any]) -> None:
        try:
            body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate (a broken client's text): JSON-escape it, as Telegram does
            body = json.dumps(payload).encode("ascii")
        self._send(code, body)

    def _handle(self) -> None:
        api = self.server.api
        url = urlsplit(self.path)
        path = unquote(url.path)
        try:
            if path.startswith("/file/bot"):
                file_path = path[len("/file/bot"):].split("/", 1)[-1]
                self._send(200, api.file_bytes(file_path), "application/octet-stream")
                return
            m = re.fullmatch(r"/bot([^/]+)/([A-Za-z]+)/?", path)
            if not m:
                raise BotApiError(404, "Not Found")
            raw = dict(parse_qsl(url.query, keep_blank_values=True))
            files: dict[str, tuple[str | None, bytes, str | None]] = {}
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            content_type = self.headers.get("Content-Type", "")
            if content_type.startswith("multipart/form-data"):
                fields, files = parse_multipart(body, content_type)
                raw.update(fields)
                params = decode_form_params(raw)
            elif content_type.startswith("application/json"):
                params = decode_form_params(raw)
                params.update(json.loads(body or b"{}"))
            else:
                raw.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
                params = decode_form_params(raw)
            self.server.owner._before_call(m.group(2), params)
            result = asyncio.run(api.call(m.group(2), params, files))
        except BotApiError as exc:
            self._send_json(exc.code, exc.payload())
            return
        except Exception as exc:  # a bug in the fake must be visible, not a hang
            self._send_json(500, {"ok": False, "error_code": 500, "description": f"Internal Server Error: {exc!r}"})
            return
        self._send_json(200, {"ok": True, "result": result})


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins request threads
    block_on_close = True
    allow_reuse_address = True
    request_queue_size = 1024  # listen backlog: a bot with 64 concurrent updates opens many connections at once

    def __init__(self, address: tuple[str, int], api: LocalBotApi, owner: FakeBotApiServer):
        super().__init__(address, _Handler)
        self.api = api
        self.owner = owner


class FakeBotApiServer:
    """Serve `api` (a new `LocalBotApi` by default) on http://127.0.0.1:<ephemeral port>."""

    def __init__(self, api: LocalBotApi | None = None, *, host: str = "127.0.0.1", port: int = 0):
        self.api = api if api is not None else LocalBotApi()
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._faults_lock = threading.Lock()
        self._faults: dict[str, list[BotApiError]] = {}
        self.webhook: dict[str, Any] = {}  # the last setWebhook's parameters; {} after deleteWebhook
        self.refused_calls: list[str] = []  # methods answered by an injected error (see fail_next)

    # fault injection and webhook bookkeeping (called from request threads)
    def fail_next(self, method: str, *, times: int = 1, code: int = 429, retry_after: int | None = 1,
                  description: str | None = None) -> None:
        """Answer the next `times` calls of `method` with an error instead (default: 429 Too Many Requests
        with `parameters.retry_after`, as Telegram does under flood control)."""
        if description is None:
            description = f"Too Many Requests: retry after {retry_after}" if code == 429 else "Bad Request"
        error = BotApiError(code, description)
        if retry_after is not None:
            payload = error.payload

            def with_retry_after() -> dict[str, Any]:
                return {**payload(), "parameters": {"retry_after": retry_after}}

            error.payload = with_retry_after  # type: ignore[method-assign]
        with self._faults_lock:
            self._faults.setdefault(method.lower(), []).extend([error] * times)

    def _before_call(self, method: str, params: dict[str, Any]) -> None:
        name = method.lower()
        with self._faults_lock:
            queued = self._faults.get(name)
            if queued:
                error = queued.pop(0)
                self.refused_calls.append(method)
                raise error
        if name == "setwebhook":
            self.webhook = dict(params)
        elif name == "deletewebhook":
            self.webhook = {}

    # lifecycle
    def start(self) -> FakeBotApiServer:
        if self._server is not None:
            return self
        self._server = _Server(self._address, self.api, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-bot-api", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        self.api.interrupt_polls(until_reopened=True)  # end long polls waiting in request threads
        try:
            server.shutdown()  # no new connections are accepted after this returns
            server.server_close()  # joins the request threads
        finally:
            self.api.reopen_polls()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> FakeBotApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # addresses
    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeBotApiServer is not running")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """For `ApplicationBuilder().base_url(...)` / TELEGRAM_BASE_URL (the token is appended)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """For `ApplicationBuilder().base_file_url(...)` / TELEGRAM_BASE_FILE_URL."""
        return f"{self.url}/file/bot"
