"""End to end, through the real python-telegram-bot Application polling the fake Bot API: parents follow a city
from a policy answer and from /start → 🔔 settings, list and stop follows in /alerts; staff see the follower
count and the message preview before publishing; the alerts job tells each follower once, in their language,
with the title and an "ask about it" button — a new document, a replacement with its changed amount old → new
and the clause, a retirement; nothing for a cosmetic replacement or a silent publish; a user who blocked the bot
does not stop the batch; a restart mid-batch sends the rest and nobody twice."""

from __future__ import annotations

import asyncio

import pytest

from bot.console_transport import running_application
from bot.handlers.alerts_dispatch import plan
from bot.handlers.alerts_views import CODEC
from db.core.engine import run_unit
from db.knowledge import alerts
from db.knowledge.changes import current_generation
from db.knowledge.registry import Actor
from knowledge.admin import KnowledgeBase
from knowledge.uploads import Upload
from tests.e2e_harness import app_factory, latest_with, say, settle, tap
from tests.fakes.fixtures import FAKE_TOKEN
from tests.kb_fixtures import SHENZHEN_QUESTION, SHENZHEN_V1, SHENZHEN_V2

ADMIN, STAFF, PARENT_ZH, PARENT_EN, PARENT_ZJG, BLOCKED = 9101, 9102, 9103, 9104, 9105, 9106
SZ = "广东省/深圳市"
GUIDE = """深圳市卫生健康委员会关于印发《深圳市托育机构入托指引》的通知
深卫健规〔2025〕9号
深圳市卫生健康委员会
2025年6月1日
一、适用范围
本指引适用于深圳市内备案的托育机构。
二、入托体检
婴幼儿入托前应当在指定医疗机构完成健康检查，检查结果1个月内有效。
"""


@pytest.fixture
def make_app(settings, kb_service):
    settings.alerts_interval_s = 0.2
    settings.alerts_rate = 0
    return app_factory(settings, kb_service, ADMIN, patient=True)


async def _alerts_done(engine, timeout=30.0):
    """Wait until the job has planned every change and no delivery is pending or being sent."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        gen = await asyncio.to_thread(run_unit, engine, current_generation)
        # The cursor first: once it has passed `gen`, the deliveries planned with it are committed, so the
        # counts read after it include them (read before it, they could miss a plan committed in between).
        planned = await asyncio.to_thread(run_unit, engine, alerts.cursor) >= gen
        counts = await asyncio.to_thread(run_unit, engine, alerts.delivery_counts)
        if planned and not counts["pending"] and not counts["sending"]:
            return counts
        await asyncio.sleep(0.1)
    raise AssertionError("alerts not delivered in time")


def _alert_state(engine) -> dict:
    """The newest change, the cursor, the newest change's message and its deliveries (for failure reports)."""
    generation = run_unit(engine, current_generation)
    message = run_unit(engine, alerts.alert_message, generation)
    return {
        "generation": generation,
        "cursor": run_unit(engine, alerts.cursor),
        "message": None if message is None else {k: str(v)[:80] for k, v in vars(message).items() if not k.startswith("_")},
        "deliveries_of_newest": run_unit(engine, alerts.delivery_counts, generation),
        "deliveries_all": run_unit(engine, alerts.delivery_counts),
    }


def _alerts_to(api, user, since=0):
    return [m for m in api.changes_since(since, user) if m.buttons and any(
        CODEC.prefix + ":ask:" in data for row in m.buttons for _, data in row)]


async def test_follow_publish_replace_cosmetic_silent_retire(fake_bot_api, make_app, kb_service):
    api = fake_bot_api.api
    app = make_app(fake_bot_api)
    engine = app.bot_data["runtime"].engine
    kb = KnowledgeBase(engine, kb_service, dev_set=None)
    staff_actor = Actor(telegram_id=STAFF)
    async with running_application(app):
        # A parent asks about 深圳 (no document yet) and follows it from the answer.
        [answer] = await say(api, app, PARENT_ZH, SHENZHEN_QUESTION)
        assert "没有深圳的政策文件" in answer.text
        [followed] = await tap(api, app, PARENT_ZH, answer, "🔔 关注深圳政策更新")
        assert "已关注深圳的政策更新" in followed.text
        [again] = await tap(api, app, PARENT_ZH, answer, "🔔 关注深圳政策更新")
        assert "已经关注了深圳" in again.text
        # An English-speaking parent follows it from an English answer.
        [answer_en] = await say(api, app, PARENT_EN, "How much is the childcare subsidy in Shenzhen?",
                                 language_code="en")
        [followed_en] = await tap(api, app, PARENT_EN, answer_en, "Follow 深圳 policy updates")
        assert "You now follow policy updates for 深圳" in followed_en.text
        # A third follows 张家港 from /start → 🔔 settings, lists it in /alerts and stops it.
        replies = await say(api, app, PARENT_ZJG, "/start")
        start = latest_with(replies, "")
        [settings_view] = await tap(api, app, PARENT_ZJG, start, "🔔 政策更新提醒")
        assert "还没有关注" in settings_view.text
        [zjg] = await tap(api, app, PARENT_ZJG, settings_view, "关注张家港政策更新")
        assert "已关注张家港" in zjg.text
        [listed] = await say(api, app, PARENT_ZJG, "/alerts")
        assert "• 张家港市" in listed.text and "❌ 取消关注张家港" in listed.button_texts
        [edited] = await tap(api, app, PARENT_ZJG, listed, "❌ 取消关注张家港")
        assert "还没有关注" in edited.text
        assert await asyncio.to_thread(run_unit, engine, alerts.follows_of, PARENT_ZJG) == []
        # A follower who blocked the bot.
        await asyncio.to_thread(run_unit, engine, alerts.follow, BLOCKED, SZ)
        api.add_user(BLOCKED)
        api.user_blocks_bot(BLOCKED)

        # Staff upload 深圳's policy: the preview tells how many followers will be told, and what.
        [granted] = await say(api, app, ADMIN, f"/grant {STAFF}")
        since = api.seq
        api.user_sends_document(STAFF, "shenzhen.txt", SHENZHEN_V1.encode())
        replies = await settle(api, app, STAFF, since)
        preview = latest_with(replies, "草稿预览")
        assert "发布后将通知 3 位关注者" in preview.text
        assert "深圳市发布了新的政策文件" in preview.text and "每人每月500元" in preview.text
        assert "🔕 静默发布" in preview.button_texts
        seen = api.seq
        await tap(api, app, STAFF, preview, "✅ 发布")
        counts = await _alerts_done(engine)
        assert counts["sent"] == 2 and counts["failed"] == 1  # the blocked one did not stop the batch
        [new_zh] = _alerts_to(api, PARENT_ZH, seen)
        assert "《深圳市普惠托育服务补贴实施办法》" in new_zh.text and "深圳市发布了新的政策文件" in new_zh.text
        assert new_zh.button_texts == ["💬 问问这份文件", "⚙️ 管理提醒"]
        [new_en] = _alerts_to(api, PARENT_EN, seen)
        assert "New policy document for 深圳市" in new_en.text and new_en.button_texts[0] == "💬 Ask about it"
        assert _alerts_to(api, PARENT_ZJG, 0) == []

        # "Ask about it" answers from the new document.
        replies = await tap(api, app, PARENT_ZH, new_zh, "💬 问问这份文件")
        assert any("出处：《深圳市普惠托育服务补贴实施办法》" in (m.text or "") for m in replies)

        # A replacement with a higher subsidy: the changed amount old → new, with the clause.
        seen = api.seq
        row = await asyncio.to_thread(kb.ingest, Upload(SHENZHEN_V2.encode(), "shenzhen-2026.txt", replace_doc_id="shenzhen"), staff_actor)
        await asyncio.to_thread(kb.publish, row.id, staff_actor, evaluate=False)
        await _alerts_done(engine)
        changes = _alerts_to(api, PARENT_ZH, seen)
        # On failure, the state tells a change never planned (no message) from one planned for nobody (a
        # message, no deliveries) from deliveries sent but not seen at the Bot API.
        assert len(changes) == 1, await asyncio.to_thread(_alert_state, engine)
        [changed] = changes
        assert "有新版本" in changed.text and "500元 → 800元" in changed.text and "三、补贴标准" in changed.text
        assert "每人每月800元" in changed.text
        assert changed.text.index("500元 → 800元") < changed.text.index("2025年4月1日 → 2026年2月1日")
        [changed_en] = _alerts_to(api, PARENT_EN, seen)
        assert "has a new version" in changed_en.text and "500元 → 800元" in changed_en.text

        # A cosmetic replacement (whitespace, page furniture): no message.
        seen = api.seq
        cosmetic = SHENZHEN_V2.replace("，", ", ").replace("：", ":").replace("\n", "\n\n") + "\n【打印本页】\n"
        row = await asyncio.to_thread(kb.ingest, Upload(cosmetic.encode(), "shenzhen-2026b.txt", replace_doc_id="shenzhen"), staff_actor)
        await asyncio.to_thread(kb.publish, row.id, staff_actor, evaluate=False)
        await _alerts_done(engine)
        # A silent publish of a real change: no message either.
        silent = SHENZHEN_V2.replace("每人每月800元", "每人每月900元")
        row = await asyncio.to_thread(kb.ingest, Upload(silent.encode(), "shenzhen-2026c.txt", replace_doc_id="shenzhen"), staff_actor)
        await asyncio.to_thread(kb.publish, row.id, staff_actor, evaluate=False, notify=False)
        await _alerts_done(engine)
        # Staff publish a new document silently from its preview.
        since = api.seq
        api.user_sends_document(STAFF, "guide.txt", GUIDE.encode())
        preview = latest_with(await settle(api, app, STAFF, since), "草稿预览")
        assert "发布后将通知 3 位关注者" in preview.text
        await tap(api, app, STAFF, preview, "🔕 静默发布")
        await api.wait_for_bot(lambda m: "静默发布：没有通知关注者" in (m.text or ""), chat_id=STAFF, since=since,
                               timeout=20)
        await _alerts_done(engine)
        assert _alerts_to(api, PARENT_ZH, seen) == [] and _alerts_to(api, PARENT_EN, seen) == []

        # Retired: a message.
        await asyncio.to_thread(kb.retire, "shenzhen", staff_actor, evaluate=False)
        counts = await _alerts_done(engine)
        try:  # delivered means seen by the Bot API: give the last send its round trip
            await api.wait_for_bot(lambda m: "已停止适用" in (m.text or ""), chat_id=PARENT_ZH, since=seen, timeout=20)
        except TimeoutError as error:  # the counts tell a delivery never planned from one never sent
            raise AssertionError(f"no retirement alert; deliveries: {counts}") from error
        retirements = _alerts_to(api, PARENT_ZH, seen)
        assert len(retirements) == 1, counts
        [retired] = retirements
        assert "已停止适用" in retired.text and "《深圳市普惠托育服务补贴实施办法》" in retired.text
        # Each follower got exactly one message per notifying change: publish, replace, retire.
        assert len(_alerts_to(api, PARENT_ZH, 0)) == 3 and len(_alerts_to(api, PARENT_EN, 0)) == 3


async def test_restart_mid_batch_sends_the_rest_once(fake_bot_api, make_app, kb_service, settings):
    api = fake_bot_api.api
    followers = list(range(20_001, 20_041))
    app = make_app(fake_bot_api)
    settings.alerts_rate = 10  # slow enough to stop it mid-way
    engine = app.bot_data["runtime"].engine
    for uid in followers:
        api.add_user(uid)
        await asyncio.to_thread(run_unit, engine, alerts.follow, uid, SZ)
    kb = KnowledgeBase(engine, kb_service, dev_set=None)
    actor = Actor(telegram_id=STAFF)
    row = await asyncio.to_thread(kb.ingest, Upload(SHENZHEN_V1.encode(), "shenzhen.txt"), actor)
    await asyncio.to_thread(kb.publish, row.id, actor, evaluate=False)
    async with running_application(app):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while (await asyncio.to_thread(run_unit, engine, alerts.delivery_counts))["sent"] < 8 and loop.time() < deadline:
            await asyncio.sleep(0.05)
    counts = await asyncio.to_thread(run_unit, engine, alerts.delivery_counts)
    assert 8 <= counts["sent"] < len(followers) and counts["pending"] > 0, counts
    assert counts["sending"] == 0  # a graceful stop gives unsent claims back

    settings.alerts_rate = 0
    app = make_app(fake_bot_api)
    async with running_application(app):
        counts = await _alerts_done(engine)
    assert counts["sent"] == len(followers)
    for uid in followers:
        assert len(api.messages_to(uid)) == 1, uid


async def test_two_dispatchers_at_once_send_each_follower_once(fake_bot_api, db_engine):
    """Two workers' dispatchers (own engines, own bots) on one database, SQLite and PostgreSQL: every follower gets
    exactly one message; the one who blocked the bot fails without stopping either."""
    from telegram.ext import ExtBot

    from bot.handlers.alerts_dispatch import Pace, dispatch
    from db.core.engine import make_engine, run_unit
    from db.knowledge.changes import NewChange, record_change
    from tests.db_fixtures import engine_url

    api = fake_bot_api.api
    followers = list(range(30_001, 30_121))
    for uid in followers:
        api.add_user(uid)
        run_unit(db_engine, alerts.follow, uid, SZ)
    api.user_blocks_bot(followers[7])
    run_unit(db_engine, record_change, NewChange("publish", doc_id="sz", index_id="sz"))
    plan(db_engine, lambda c: alerts.Planned({"zh": "政策更新", "en": "update"}, (SZ,), c.doc_id, c.index_id))
    engines = [make_engine(engine_url(db_engine)) for _ in range(2)]
    bots = [ExtBot(FAKE_TOKEN, base_url=fake_bot_api.base_url) for _ in range(2)]
    try:
        for bot in bots:
            await bot.initialize()
        reports = await asyncio.gather(*(dispatch(bot, engine, None, pace=Pace(rate=0, batch=7))
                                         for bot, engine in zip(bots, engines, strict=True)))
    finally:
        for bot in bots:
            await bot.shutdown()
        for engine in engines:
            engine.dispose()
    assert sum(r.sent for r in reports) == len(followers) - 1 and sum(r.failed for r in reports) == 1
    for uid in followers:
        assert len(api.messages_to(uid)) == (0 if uid == followers[7] else 1), uid


async def test_flood_control_is_honoured_and_retried(fake_bot_api, db_engine):
    """Telegram answers 429 retry_after=1 (no rate limiter in front): those deliveries go back to pending, the
    dispatcher waits, then sends them — everyone once."""
    from telegram.ext import ExtBot

    from bot.handlers.alerts_dispatch import Pace, dispatch
    from db.knowledge.changes import NewChange, record_change

    api = fake_bot_api.api
    followers = list(range(40_001, 40_011))
    for uid in followers:
        api.add_user(uid)
        run_unit(db_engine, alerts.follow, uid, SZ)
    run_unit(db_engine, record_change, NewChange("publish", doc_id="sz", index_id="sz"))
    plan(db_engine, lambda c: alerts.Planned({"zh": "政策更新", "en": "update"}, (SZ,), c.doc_id, c.index_id))
    fake_bot_api.fail_next("sendMessage", times=2, code=429, retry_after=1)
    bot = ExtBot(FAKE_TOKEN, base_url=fake_bot_api.base_url)
    loop = asyncio.get_running_loop()
    async with bot:
        started = loop.time()
        report = await dispatch(bot, db_engine, None, pace=Pace(rate=0))
    assert report.flood_waits == 2 and report.sent == len(followers) and loop.time() - started >= 1.0
    assert [len(api.messages_to(uid)) for uid in followers] == [1] * len(followers)
