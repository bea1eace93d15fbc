"""Policy-change alerts in the database (SQLite and PostgreSQL): migration 0008 matches the models; follows and
their reach down the place hierarchy; the planner turns each notifying change into one delivery per follower
exactly once, also with planners and senders running concurrently; stale claims are never resent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect, select

from bot.handlers.alerts_dispatch import plan
from db.accounts.users import set_language
from db.core.engine import run_unit
from db.knowledge import alerts
from db.knowledge.changes import NewChange, record_change
from tests.db_fixtures import engine_url, model_drift, race_on_own_engines

TABLES = {"policy_follows", "alert_messages", "alert_deliveries", "alert_cursor"}
ZJG = "江苏省/苏州市/张家港市"
SUZHOU = "江苏省/苏州市"


def test_migration_creates_the_tables_and_matches_the_models(db_engine):
    assert set(inspect(db_engine).get_table_names()) >= TABLES
    assert model_drift(db_engine, TABLES) == []


def test_follow_unfollow_limit_and_reach(db_engine):
    assert run_unit(db_engine, alerts.follow, 1, ZJG) is True
    assert run_unit(db_engine, alerts.follow, 1, ZJG) is False
    run_unit(db_engine, alerts.follow, 2, SUZHOU)
    run_unit(db_engine, alerts.follow, 3, "广东省/深圳市")
    run_unit(db_engine, alerts.follow, 4, "江苏省/苏州市_x")  # LIKE wildcards in names are literal
    assert run_unit(db_engine, alerts.follows_of, 1) == [ZJG]
    # A 苏州 document reaches 苏州's and 张家港's followers; a 张家港 one only 张家港's.
    assert run_unit(db_engine, alerts.followers, [SUZHOU]) == [1, 2]
    assert run_unit(db_engine, alerts.followers, [ZJG]) == [1]
    assert run_unit(db_engine, alerts.count_followers, ["江苏省"]) == 3
    assert run_unit(db_engine, alerts.count_followers, ["*"]) == 4
    assert run_unit(db_engine, alerts.unfollow, 1, ZJG) is True
    assert run_unit(db_engine, alerts.unfollow, 1, ZJG) is False
    for i in range(alerts.MAX_FOLLOWS):
        run_unit(db_engine, alerts.follow, 9, f"p{i}")
    try:
        run_unit(db_engine, alerts.follow, 9, "one-too-many")
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
        run_unit(db_engine, alerts.follow, uid, ZJG, lang="en" if uid == 3 else "zh")
    run_unit(db_engine, set_language, 2, "en")  # a stored language wins over the one followed in
    g1 = run_unit(db_engine, record_change, NewChange("publish", doc_id="doc-a", index_id="doc-a"))
    run_unit(db_engine, record_change, NewChange("publish", doc_id="doc-b", index_id="doc-b", notify=False))  # silent
    run_unit(db_engine, record_change, NewChange("reindex"))
    run_unit(db_engine, record_change, NewChange("replace", doc_id="cosmetic", index_id="cosmetic-v2", previous_index_id="cosmetic"))
    g5 = run_unit(db_engine, record_change, NewChange("retire", doc_id="doc-a", index_id="doc-a"))
    assert plan(db_engine, _build) == (5, 6)
    assert plan(db_engine, _build) == (0, 0)
    assert run_unit(db_engine, alerts.cursor) == g5
    claimed = run_unit(db_engine, alerts.claim_batch, 100)
    assert sorted((d.generation, d.user_id, d.text) for d in claimed) == [
        (g1, 1, "中文 doc-a"), (g1, 2, "English doc-a"), (g1, 3, "English doc-a"),
        (g5, 1, "中文 doc-a"), (g5, 2, "English doc-a"), (g5, 3, "English doc-a"),
    ]
    assert run_unit(db_engine, alerts.claim_batch, 100) == []  # claimed already
    outcome = alerts.Outcome([claimed[0].id], {claimed[1].id: "forbidden"}, [c.id for c in claimed[2:]])
    run_unit(db_engine, alerts.finish, outcome)
    counts = run_unit(db_engine, alerts.delivery_counts)
    assert counts == {"pending": 4, "sending": 0, "sent": 1, "failed": 1, "unknown": 0}
    assert run_unit(db_engine, alerts.alert_message, g1).doc_id == "doc-a"


def test_concurrent_planners_and_senders_each_follower_once(db_engine):
    for uid in range(1, 201):
        run_unit(db_engine, alerts.follow, uid, ZJG)
    for n in range(3):
        run_unit(db_engine, record_change, NewChange("publish", doc_id=f"doc-{n}", index_id=f"doc-{n}"))

    def work(engine, _i: int) -> list[int]:
        plan(engine, _build)
        sent: list[int] = []
        while batch := run_unit(engine, alerts.claim_batch, 17):
            sent.extend(d.id for d in batch)
            run_unit(engine, alerts.finish, alerts.Outcome(sent=[d.id for d in batch]))
        return sent

    got = race_on_own_engines(engine_url(db_engine), 4, work)
    everything = [d for part in got for d in part]
    assert len(everything) == len(set(everything)) == 600
    table = alerts.AlertDelivery.__table__
    with db_engine.connect() as conn:
        pairs = conn.execute(select(table.c.generation, table.c.user_id)).all()
    assert len(pairs) == len(set(pairs)) == 600
    assert run_unit(db_engine, alerts.delivery_counts)["sent"] == 600


def test_stale_claims_become_unknown_and_are_never_resent(db_engine):
    run_unit(db_engine, alerts.follow, 1, ZJG)
    run_unit(db_engine, alerts.follow, 2, ZJG)
    run_unit(db_engine, record_change, NewChange("publish", doc_id="doc-a", index_id="doc-a"))
    plan(db_engine, _build)
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    [first] = run_unit(db_engine, alerts.claim_batch, 1, now=long_ago)  # a sender that died mid-send
    assert run_unit(db_engine, alerts.expire_stale) == 1
    [second] = run_unit(db_engine, alerts.claim_batch, 10)
    assert second.user_id != first.user_id
    assert run_unit(db_engine, alerts.delivery_counts)["unknown"] == 1
