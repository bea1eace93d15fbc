"""Shared setup of the end-to-end tests that run the real bot against the fake Bot API (one home for it):

- in-process: the `kb_service` and `make_app` fixtures (a freshly built knowledge base), `app_factory` (admin, error spy),
  `record_errors`, and the say / upload / tap / settle steps of one user;
- several workers on one database: `Worker` and `worker_pair`;
- real `python -m bot run` processes killed and started again: `BotProcess`, `BotRuns`, `answer`, `quiet`.

The fixtures need no import: tests/conftest.py registers this module as a pytest plugin."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time as clock
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from telegram import Update
from telegram.request import HTTPXRequest

from bot.app import build_application
from bot.local_api import application_is_busy
from bot.settings import KNOWLEDGE_DIR, Settings
from db.core.engine import make_engine
from retrieval.service import PolicyService
from tests.fakes.fixtures import FAKE_TOKEN
from tests.kb_fixtures import caching

TIMEOUT = 20
ROOT = Path(__file__).resolve().parent.parent
WAIT = 90.0  # a cold process imports PTB and SQLAlchemy while it loads the policy model in the background


@pytest.fixture
def kb_service(settings, embedder):
    """A policy service over the bundled knowledge base (embeddings cached across tests)."""
    service = PolicyService(settings.index_dir, KNOWLEDGE_DIR, embedder=caching(embedder))
    service.build()
    return service


@pytest.fixture
def make_app(settings, policy_service):
    """`make(server)`: the bot's Application on the test settings, answering from the shared policy service."""
    return app_factory(settings, policy_service)


def record_errors(app) -> list:
    """The errors `app`'s handlers raise from now on (a list that fills as they happen)."""
    errors: list = []

    async def record(update, context):
        errors.append(context.error)

    app.add_error_handler(record)
    return errors


def app_factory(
    settings, policy_service, admin: int | None = None, *, spy_errors: bool = False, patient: bool = False
) -> Callable:
    """`make(server)`: the bot's Application talking to the fake Bot API `server`, answering from
    `policy_service`, with `admin` (when given) as its admin. With `spy_errors`, every error that reaches the
    error handler is recorded in `app.bot_data["errors"]`. `patient`: its requests wait 60 s instead of PTB's
    5 s, for tests whose point is not timeouts but that re-index in-process (a long GIL hold can stall the fake
    server's thread, and an at-most-once send that times out is never repeated)."""
    if admin is not None:
        settings.admin_user_ids = str(admin)

    def make(server):
        settings.telegram_base_url = server.base_url
        settings.telegram_base_file_url = server.base_file_url
        request = HTTPXRequest(read_timeout=60, write_timeout=60, connect_timeout=60, pool_timeout=60) if patient else None
        app = build_application(settings, policy_service=policy_service, token=FAKE_TOKEN, request=request)
        if spy_errors:
            app.bot_data["errors"] = record_errors(app)
        return app

    return make


async def settle(api, app, user: int, since: int) -> list:
    """Wait for the bot's answer to `user` and for the application to go idle; what `user` saw since `since`."""
    await api.wait_for_bot(chat_id=user, since=since, timeout=TIMEOUT)
    await api.wait_until_idle(busy=lambda: application_is_busy(app), timeout=TIMEOUT)
    return api.changes_since(since, user)


async def say(api, app, user: int, text: str, **kwargs) -> list:
    """`user` sends `text`; the messages they got in answer."""
    since = api.seq
    api.user_sends_text(user, text, **kwargs)
    return await settle(api, app, user, since)


async def upload(api, app, user: int, name: str, data: bytes) -> list:
    """`user` sends the document `name` holding `data`; the messages they got in answer."""
    since = api.seq
    api.user_sends_document(user, name, data)
    return await settle(api, app, user, since)


async def tap(api, app, user: int, message, text_contains: str) -> list:
    """`user` taps the button of `message` whose text contains `text_contains`; what changed for them."""
    since = api.seq
    api.user_taps_button(user, message.message_id, message.callback_data(text_contains))
    await api.wait_until_idle(busy=lambda: application_is_busy(app), timeout=TIMEOUT)
    return api.changes_since(since, user)


def text_of(messages: list) -> str:
    """The texts of `messages`, one after another."""
    return "\n".join(m.text or "" for m in messages)


def latest_with(messages: list, text_contains: str):
    """The newest of `messages` whose text contains `text_contains`."""
    return next(m for m in reversed(messages) if text_contains in (m.text or ""))


# --- Several bot processes on one database -------------------------------------------------------------------


class Worker:
    """One bot process: its own engine and Application (and memory); updates are handed to it explicitly.
    Errors that reach its error handler are kept in `errors`."""

    def __init__(self, url: str, server, data_dir, *, service=None, admin: int | None = None) -> None:
        self.engine = make_engine(url)
        settings = Settings(
            _env_file=None, data_dir=data_dir, telegram_bot_token="", database_url=url,
            telegram_base_url=server.base_url, telegram_base_file_url=server.base_file_url,
            admin_user_ids="" if admin is None else str(admin),
        )
        policy_service = object() if service is None else service
        self.app = build_application(settings, engine=self.engine, token=FAKE_TOKEN, policy_service=policy_service)
        self.errors = record_errors(self.app)

    async def handle(self, update: dict) -> None:
        await self.app.process_update(Update.de_json(update, self.app.bot))

    async def close(self) -> None:
        await self.app.shutdown()
        self.engine.dispose()


@asynccontextmanager
async def worker_pair(url: str, server, tmp_path, **options) -> AsyncIterator[list[Worker]]:
    """Two initialised `Worker`s ("w1", "w2", each with its data directory under `tmp_path`) on the database
    `url` and the fake Bot API `server`; `options` are `Worker`'s (service, admin). Shut down afterwards."""
    pair = [Worker(url, server, tmp_path / name, **options) for name in ("w1", "w2")]
    try:
        for worker in pair:
            await worker.app.initialize()
        yield pair
    finally:
        for worker in pair:
            await worker.close()


# --- Real bot processes, killed and started again ----------------------------------------------------------------


class BotProcess:
    """`python -m bot run` in its own process group, logging to a file."""

    def __init__(self, server, url: str, tmp_path: Path, n: int) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_", "DATA_DIR"))}
        env.update(
            PYTHONPATH=str(ROOT), TELEGRAM_BOT_TOKEN=FAKE_TOKEN, TELEGRAM_BASE_URL=server.base_url,
            TELEGRAM_BASE_FILE_URL=server.base_file_url, DATA_DIR=str(tmp_path / "data"), DATABASE_URL=url,
            HF_HUB_OFFLINE="1",
        )
        self.log = tmp_path / f"bot{n}.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"], cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def tail(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-3000:]


class BotRuns:
    """Successive `BotProcess`es on one database and one fake Bot API (the next started after the last was
    killed). A context manager: leaving it ends any still running."""

    def __init__(self, server, url: str, tmp_path: Path) -> None:
        self.server, self.url, self.tmp_path = server, url, tmp_path
        self.procs: list[BotProcess] = []

    def start(self) -> BotProcess:
        self.procs.append(BotProcess(self.server, self.url, self.tmp_path, len(self.procs)))
        return self.procs[-1]

    def __enter__(self) -> BotRuns:
        return self

    def __exit__(self, *exc_info) -> None:
        for proc in self.procs:
            proc.stop()


async def answer(api, user: int, since: int, predicate, proc: BotProcess):
    """The bot's first message to `user` since `since` matching `predicate`; fails with `proc`'s log."""
    try:
        return await api.wait_for_bot(predicate, timeout=WAIT, chat_id=user, since=since)
    except TimeoutError as error:
        raise AssertionError(f"no answer; bot log:\n{proc.tail()}") from error


async def quiet(api) -> None:
    """Let the process confirm the updates it fetched (its next getUpdates carries the offset) before a kill."""
    deadline = clock.monotonic() + 5
    while clock.monotonic() < deadline and any(u for u in api._updates):
        await asyncio.sleep(0.05)
