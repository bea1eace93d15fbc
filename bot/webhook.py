"""Webhook worker: `python -m bot run --webhook` (contract in DESIGN.md, set-up in docs/deploy.md).

A small ASGI app served by uvicorn (already a dependency through chromadb) rather than PTB's
tornado-based `run_webhook`, because a worker among N needs things PTB's server does not offer:

* `setWebhook` is optional (WEBHOOK_REGISTER): PTB's `start_webhook` always calls it, so N workers
  would each re-register at every restart;
* a missing secret header is answered 401 and a wrong one 403 (compared in constant time);
* `GET /healthz` for the reverse proxy and the process supervisor;
* a bounded request body (Telegram updates are small; anything large is refused with 413).

An accepted update is put on the Application's update queue and answered 200 at once; the
`PerUserUpdateProcessor` runs it concurrently with other users' updates.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import re
import signal
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import uvicorn
from telegram import Update
from telegram.ext import Application

from bot.settings import Settings

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000
SECRET_HEADER = b"x-telegram-bot-api-secret-token"
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
HEALTH_PATH = "/healthz"

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class WebhookConfigError(ValueError):
    """The webhook settings are incomplete or invalid."""


def check_webhook_settings(settings: Settings) -> None:
    """Refuse to start a webhook worker that anyone on the network could feed updates to."""
    if not settings.telegram_bot_token:
        raise WebhookConfigError("TELEGRAM_BOT_TOKEN is not set")
    if not settings.telegram_webhook_url:
        raise WebhookConfigError("TELEGRAM_WEBHOOK_URL is not set")
    if not SECRET_RE.match(settings.telegram_webhook_secret or ""):
        raise WebhookConfigError("TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z a-z 0-9 _ -")


class WebhookApp:
    """ASGI app: POST `path` with the secret header → the update goes to `application.update_queue`."""

    def __init__(self, application: Application, path: str, secret: str, *, max_body: int = MAX_BODY_BYTES):
        self.application = application
        self.path = path if path.startswith("/") else f"/{path}"
        self._secret = secret.encode("utf-8")
        self.max_body = max_body
        self.accepted = 0
        self.refused = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        method, path = scope["method"], scope["path"]
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            await _respond(send, 200, {"ok": True, "running": self.application.running})
            return
        if path.rstrip("/") != self.path.rstrip("/"):
            await _respond(send, 404, {"ok": False})
            return
        if method != "POST":
            await _respond(send, 405, {"ok": False})
            return
        token = dict(scope.get("headers") or []).get(SECRET_HEADER)
        if not token:
            self.refused += 1
            log.warning("Webhook request without secret token refused")
            await _respond(send, 401, {"ok": False})
            return
        if not hmac.compare_digest(token, self._secret):
            self.refused += 1
            log.warning("Webhook request with a wrong secret token refused")
            await _respond(send, 403, {"ok": False})
            return
        body = await _read_body(receive, self.max_body)
        if body is None:
            await _respond(send, 413, {"ok": False})
            return
        try:
            data = json.loads(body)
            update = Update.de_json(data, self.application.bot) if isinstance(data, dict) else None
        except Exception:  # noqa: BLE001 - anything unparsable is the sender's fault
            update = None
        if update is None:
            log.warning("Webhook request with an unparsable update refused (%d bytes)", len(body))
            await _respond(send, 400, {"ok": False})
            return
        await self.application.update_queue.put(update)
        self.accepted += 1
        await _respond(send, 200, {"ok": True})


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _respond(send: Send, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
    })
    await send({"type": "http.response.body", "body": body})


class _Server(uvicorn.Server):
    """uvicorn's server without its own signal handling: the worker stops the Application first."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def register_webhook(application: Application, settings: Settings) -> bool:
    """`setWebhook` with this worker's URL and secret; False (logged) when Telegram refused or was away."""
    try:
        await application.bot.set_webhook(
            url=settings.telegram_webhook_url,
            secret_token=settings.telegram_webhook_secret,
            allowed_updates=Update.ALL_TYPES,
            max_connections=settings.webhook_max_connections,
        )
    except Exception as exc:  # noqa: BLE001 - a worker can serve without re-registering
        log.warning("setWebhook failed (%s); serving anyway", type(exc).__name__)
        return False
    log.info("Webhook registered")
    return True


async def serve_webhook(application: Application, settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run `application` as a webhook worker until SIGINT/SIGTERM (or `stop` is set). Its `post_init` and
    `post_shutdown` run as under `run_polling`: the services start and close with the worker."""
    check_webhook_settings(settings)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    app = WebhookApp(application, settings.webhook_path, settings.telegram_webhook_secret)
    config = uvicorn.Config(
        app, host=settings.webhook_listen, port=settings.webhook_port, lifespan="off", access_log=False,
        log_level="warning", timeout_graceful_shutdown=5,
    )
    server = _Server(config)
    await application.initialize()
    try:
        if application.post_init is not None:
            await application.post_init(application)
        await application.start()
        if settings.webhook_register:
            await register_webhook(application, settings)
        serving = asyncio.create_task(server.serve())
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
        server.should_exit = True
        await serving  # raises if the port could not be bound
        stopping.cancel()
        log.info("Webhook worker stopping: %d updates accepted, %d refused", app.accepted, app.refused)
    finally:
        if application.running:
            await application.stop()
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)


def run_webhook(settings: Settings) -> None:
    """`python -m bot run --webhook`: build the Application without long polling and serve the webhook."""
    from bot.app import build_application, new_event_loop

    check_webhook_settings(settings)
    application = build_application(settings, with_updater=False)
    loop = new_event_loop(settings)
    try:
        loop.run_until_complete(serve_webhook(application, settings))
    finally:
        loop.close()
