"""Two bot workers sharing one database: a policy follow-up ("那张家港呢？") handled by another worker than the
question it refers to still knows that question (the context is in the database, not in a worker's memory)."""

from __future__ import annotations

from telegram import Update

from bot.app import build_application
from bot.settings import Settings
from db.core.engine import make_engine
from tests.fakes.fixtures import FAKE_TOKEN

PARENT = 8181


async def test_a_followup_on_another_worker_keeps_the_topic(fake_bot_api, tmp_path, policy_service):
    api = fake_bot_api.api
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    workers = []
    for name in ("w1", "w2"):
        settings = Settings(
            _env_file=None, data_dir=tmp_path / name, telegram_bot_token="", database_url=url,
            telegram_base_url=fake_bot_api.base_url, telegram_base_file_url=fake_bot_api.base_file_url,
        )
        app = build_application(settings, engine=make_engine(url), token=FAKE_TOKEN, policy_service=policy_service)
        app.bot_data["runtime"].policy_ready.set()
        await app.initialize()
        workers.append(app)
    try:
        api.user_sends_text(PARENT, "厦门托育从业人员持证上岗有什么要求？")
        await workers[0].process_update(Update.de_json(api.updates_log[-1], workers[0].bot))
        assert "厦门" in api.last_message(PARENT).text
        api.user_sends_text(PARENT, "那张家港呢？")
        await workers[1].process_update(Update.de_json(api.updates_log[-1], workers[1].bot))
        follow = api.last_message(PARENT).text
        assert "张家港" in follow and "持证上岗率达100%" in follow
    finally:
        for app in workers:
            await app.shutdown()
