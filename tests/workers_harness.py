"""Two bot workers on one database and one fake Bot API: the `workers` fixture (two real Applications, each
with its own engine) and `two_workers`, which starts one job on two threads at once.

Registered as a pytest plugin in tests/conftest.py, so its fixtures need no import."""

from __future__ import annotations

import asyncio
import threading

import pytest
from telegram import Bot

from db.core.engine import make_engine
from tests.db_fixtures import COMMUNITY_CENTRE, engine_url, make_institution
from tests.e2e_harness import worker_pair
from tests.fakes.fixtures import FAKE_TOKEN

OPERATOR = 7171


def operator_centre(engine, **overrides) -> int:
    """A community centre run by OPERATOR (with `overrides`); its id."""
    return make_institution(engine, **COMMUNITY_CENTRE | {"operator_user_id": OPERATOR} | overrides)


@pytest.fixture
async def workers(db_engine, fake_bot_api, tmp_path):
    """Two running workers on `db_engine`'s database, both talking to `fake_bot_api`."""
    async with worker_pair(engine_url(db_engine), fake_bot_api, tmp_path) as pair:
        yield pair


def last_update(api) -> dict:
    """The last update the fake Bot API handed to a worker."""
    return api.updates_log[-1]


def two_workers(db_engine, fake_bot_api, job, timeout: float = 60) -> None:
    """Two threads, each a worker with its own engine, event loop and HTTP client, start `await job(bot, engine)`
    at the same moment; returns when both are done."""
    start = threading.Barrier(2)

    def worker() -> None:
        engine = make_engine(engine_url(db_engine))

        async def run() -> None:
            async with Bot(FAKE_TOKEN, base_url=fake_bot_api.base_url) as bot:
                start.wait()
                await job(bot, engine)

        try:
            asyncio.run(run())
        finally:
            engine.dispose()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads)
