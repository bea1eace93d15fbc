"""The Application's services: what it creates (engine, policy service) is started in `post_init` and closed in
`post_shutdown`; what a caller passes in stays the caller's, open."""

from __future__ import annotations

import asyncio
import threading

import bot.app
from bot.app import build_application
from bot.console_transport import running_application, stop_application
from db.core.engine import make_engine
from tests.fakes.fixtures import FAKE_TOKEN


class FakePolicy:
    """Stands in for a loaded PolicyService: records `close()`."""

    def __init__(self) -> None:
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


def _point_at(settings, server) -> None:
    settings.telegram_base_url = server.base_url
    settings.telegram_base_file_url = server.base_file_url


async def test_post_shutdown_closes_what_the_application_created(settings, fake_bot_api, monkeypatch):
    _point_at(settings, fake_bot_api)
    loaded = FakePolicy()
    monkeypatch.setattr(bot.app, "load_policy_service", lambda settings, engine: loaded)
    app = build_application(settings, token=FAKE_TOKEN)
    rt = app.bot_data["runtime"]
    pool = rt.engine.pool
    async with running_application(app, poll_timeout=0.2):
        await asyncio.wait_for(rt.policy_ready.wait(), 10)
        assert rt.policy is not None and rt.policy.wrapped is loaded  # gated: one search at a time
        assert loaded.closed == 0
    assert loaded.closed == 1
    assert rt.policy is None and not rt.policy_ready.is_set()
    assert rt.engine.pool is not pool, "the engine was disposed (a fresh pool replaces the old one)"


async def test_injected_services_stay_open(settings, fake_bot_api, tmp_path):
    _point_at(settings, fake_bot_api)
    engine = make_engine(f"sqlite:///{tmp_path / 'own.sqlite3'}")
    service = FakePolicy()
    try:
        app = build_application(settings, engine=engine, policy_service=service, token=FAKE_TOKEN)
        pool = engine.pool
        async with running_application(app, poll_timeout=0.2):
            assert app.bot_data["runtime"].policy_ready.is_set()
        assert service.closed == 0
        assert engine.pool is pool
        assert app.bot_data["runtime"].policy is service
    finally:
        engine.dispose()


async def test_shutdown_during_the_policy_load_cancels_it(settings, fake_bot_api, monkeypatch):
    """A start cut short (post_init ran, the knowledge base still loading): post_shutdown does not wait for it."""
    _point_at(settings, fake_bot_api)
    release = threading.Event()
    loaded = FakePolicy()

    def slow_load(settings, engine):
        release.wait(10)
        return loaded

    monkeypatch.setattr(bot.app, "load_policy_service", slow_load)
    app = build_application(settings, token=FAKE_TOKEN, with_updater=False)
    rt = app.bot_data["runtime"]
    await app.initialize()
    await app.post_init(app)
    loading = app.bot_data["services"].loading
    assert loading is not None and not loading.done()
    try:
        await asyncio.wait_for(stop_application(app), 5)
        assert loading.cancelled()
        assert rt.policy is None and not rt.policy_ready.is_set()
    finally:
        release.set()
