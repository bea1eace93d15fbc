"""Policy-change alerts in the database (SQLite and PostgreSQL): migration 0008 matches the models; follows and
their reach down the place hierarchy; the planner turns each notifying change into one delivery per follower
exactly once, also with planners and senders running concurrently; stale claims are never resent."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, inspect, select
from sqlmodel import SQLModel

from db.accounts.users import set_language
from db.core.engine import make_engine
from db.knowledge import alerts
from db.knowledge.changes import record_change
from tests.db_fixtures import db_engine_fixture, engine_url  # noqa: F401
from tests.test_kb_db import _table_of
from tests.unit_of_work import work

TABLES = {"policy_follows", "alert_messages", "alert_deliveries", "alert_cursor"}
ZJG = "江苏省/苏州市/张家港市"
SUZHOU = "江苏省/苏州市"


def test_migration_creates_the_tables_and_matches_the_models(db_engine):
    assert set(inspect(db_engine).get_table_names()) >= TABLES
    ours = MetaData()
    for name in TABLES:
        SQLModel.metadata.tables[name].to_metadata(ours)
    with db_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, ours)
    assert [d for d in diffs if _table_of(d) in TABLES | {"?"}] == []


def test_follow_unfollow_limit_and_reach(db_engine):
    assert alerts.follow(db_engine, 1, ZJG) is True
    assert alerts.follow(db_engine, 1, ZJG) is False
    alerts.follow(db_engine, 2, SUZHOU)
    alerts.follow(db_engine, 3, "广东省/深圳市")
    alerts.follow(db_engine, 4, "江苏省/苏州市_x")  # LIKE wildcards in names are literal
    assert alerts.follows_of(db_engine, 1) == [ZJG]
    # A 苏州 document reaches 苏州's and 张家港's followers; a 张家港 one only 张家港's.
    assert alerts.followers(db_engine, [SUZHOU]) == [1, 2]
    assert alerts.followers(db_engine, [ZJG]) == [1]
    assert alerts.count_followers(db_engine, ["江苏省"]) == 3
    assert alerts.count_followers(db_engine, ["*"]) == 4
    assert alerts.unfollow(db_engine, 1, ZJG) is True
    assert alerts.unfollow(db_engine, 1, ZJG) is False
    for i in range(alerts.MAX_FOLLOWS):
        alerts.follow(db_engine, 9, f"p{i}")
    try:
        alerts.follow(db_engine, 9, "one-too-many")
    except alerts.FollowLimit:
        pass
    else:
        raise AssertionError("limit not enforced")


def _build(change):
    if change.doc_id == "cosmetic":
        return alerts.Planned(None)
    return alerts.Planned({"zh": f"中文 {change.doc_id}", "en": f"English {change.doc_id}"}, (ZJG,), change.doc_id,
                          change.index_id)


def test_plan_once_per_change_and_follower_in_their_language(db_engine):
    for uid in (1, 2, 3):
        alerts.follow(db_engine, uid, ZJG, lang="en" if uid == 3 else "zh")
    work(db_engine, set_language, 2, "en")  # a stored language wins over the one followed in
    g1 = record_change(db_engine, "publish", "doc-a", "doc-a")
    record_change(db_engine, "publish", "doc-b", "doc-b", notify=False)  # silent
    record_change(db_engine, "reindex")
    record_change(db_engine, "replace", "cosmetic", "cosmetic-v2", "cosmetic")
    g5 = record_change(db_engine, "retire", "doc-a", "doc-a")
    assert alerts.plan(db_engine, _build) == (5, 6)
    assert alerts.plan(db_engine, _build) == (0, 0)
    assert alerts.cursor(db_engine) == g5
    claimed = alerts.claim_batch(db_engine, 100)
    assert sorted((d.generation, d.user_id, d.text) for d in claimed) == [
        (g1, 1, "中文 doc-a"), (g1, 2, "English doc-a"), (g1, 3, "English doc-a"),
        (g5, 1, "中文 doc-a"), (g5, 2, "English doc-a"), (g5, 3, "English doc-a"),
    ]
    assert alerts.claim_batch(db_engine, 100) == []  # claimed already
    alerts.finish(db_engine, [claimed[0].id], {claimed[1].id: "forbidden"}, [c.id for c in claimed[2:]])
    assert alerts.delivery_counts(db_engine) == {"pending": 4, "sending": 0, "sent": 1, "failed": 1, "unknown": 0}
    assert alerts.alert_message(db_engine, g1).doc_id == "doc-a"


def test_concurrent_planners_and_senders_each_follower_once(db_engine):
    for uid in range(1, 201):
        alerts.follow(db_engine, uid, ZJG)
    for n in range(3):
        record_change(db_engine, "publish", f"doc-{n}", f"doc-{n}")
    url = engine_url(db_engine)
    engines = [make_engine(url) for _ in range(4)]
    got: list[list[int]] = [[] for _ in engines]
    barrier = threading.Barrier(len(engines))

    def work(i):
        barrier.wait()
        alerts.plan(engines[i], _build)
        while batch := alerts.claim_batch(engines[i], 17):
            got[i].extend(d.id for d in batch)
            alerts.finish(engines[i], [d.id for d in batch], {}, [])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(engines))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for engine in engines:
        engine.dispose()
    everything = [d for part in got for d in part]
    assert len(everything) == len(set(everything)) == 600
    table = alerts.AlertDelivery.__table__
    with db_engine.connect() as conn:
        pairs = conn.execute(select(table.c.generation, table.c.user_id)).all()
    assert len(pairs) == len(set(pairs)) == 600
    assert alerts.delivery_counts(db_engine)["sent"] == 600


def test_stale_claims_become_unknown_and_are_never_resent(db_engine):
    alerts.follow(db_engine, 1, ZJG)
    alerts.follow(db_engine, 2, ZJG)
    record_change(db_engine, "publish", "doc-a", "doc-a")
    alerts.plan(db_engine, _build)
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    [first] = alerts.claim_batch(db_engine, 1, now=long_ago)  # a sender that died mid-send
    assert alerts.expire_stale(db_engine) == 1
    [second] = alerts.claim_batch(db_engine, 10)
    assert second.user_id != first.user_id
    assert alerts.delivery_counts(db_engine)["unknown"] == 1
