"""The database goes slow, away, and comes back: engines wait a bounded time, users get a short "busy"
reply instead of a stall or a stack trace, unrelated users keep being answered, and the bot recovers by
itself. Through the real Application and the fake Bot API over HTTP, against real SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
import threading
import time

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.app import build_application
from bot.console_transport import running_application
from bot.texts import t
from db.core.engine import is_database_unavailable, make_engine
from db.core.migrate import upgrade_to_head
from tests.db_fixtures import drop_postgres_schema, fresh_postgres_schema
from tests.fakes.fixtures import FAKE_TOKEN
from tests.fakes.tcp_proxy import TcpProxy

BUSY_ZH = t("db_busy", "zh")


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_sqlite_files_are_private_and_busy_timeout_is_short(tmp_path):
    db_path = tmp_path / "fresh" / "tuoyu.sqlite3"
    engine = make_engine(f"sqlite:///{db_path}", busy_timeout_s=1.5)
    try:
        upgrade_to_head(engine)
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 1500
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert _mode(db_path.parent) == 0o700
            assert _mode(db_path) == 0o600
            for suffix in ("-wal", "-shm"):
                side = db_path.with_name(db_path.name + suffix)
                assert side.exists() and _mode(side) == 0o600, suffix
    finally:
        engine.dispose()


def test_existing_loose_sqlite_file_is_tightened(tmp_path):
    db_path = tmp_path / "old.sqlite3"
    sqlite3.connect(db_path).close()
    db_path.chmod(0o644)
    make_engine(f"sqlite:///{db_path}").dispose()
    assert _mode(db_path) == 0o600


def test_bound_parameters_never_reach_error_messages(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'p.sqlite3'}")
    try:
        with pytest.raises(sa_exc.DBAPIError) as caught, engine.connect() as conn:
            conn.execute(text("INSERT INTO no_such_table VALUES (:v)"), {"v": "家长的手机号13800000000"})
        assert "13800000000" not in str(caught.value)
    finally:
        engine.dispose()


def test_is_database_unavailable_sees_through_wrapping():
    locked = sa_exc.OperationalError("UPDATE x", {}, sqlite3.OperationalError("database is locked"))
    assert is_database_unavailable(locked)
    assert is_database_unavailable(sa_exc.TimeoutError("QueuePool limit reached"))
    try:
        try:
            raise locked
        except sa_exc.OperationalError as inner:
            raise RuntimeError("handler failed") from inner
    except RuntimeError as outer:
        assert is_database_unavailable(outer)
    assert not is_database_unavailable(ValueError("bad input"))
    assert not is_database_unavailable(sa_exc.IntegrityError("INSERT", {}, Exception("duplicate")))
    assert not is_database_unavailable(None)


@pytest.mark.postgres
def test_postgres_sessions_carry_timeouts_and_keep_url_options():
    schema, url = fresh_postgres_schema()
    engine = make_engine(url, statement_timeout_ms=1234, lock_timeout_ms=567)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "1234ms"
            assert conn.execute(text("SHOW lock_timeout")).scalar() == "567ms"
            assert conn.execute(text("SHOW search_path")).scalar() == schema
            with pytest.raises(sa_exc.OperationalError) as caught:
                conn.execute(text("SELECT pg_sleep(3)"))
            assert is_database_unavailable(caught.value)
    finally:
        engine.dispose()
        drop_postgres_schema(schema)


async def _reply_to(api, user_id: int, timeout: float = 10.0):
    return await api.wait_for_bot(lambda m: m.chat_id == user_id, timeout=timeout)


async def _send_and_wait(api, user_id: int, text_: str, timeout: float = 10.0):
    since = len(api.messages_to(user_id))
    api.user_sends_text(user_id, text_)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = api.messages_to(user_id)
        if len(messages) > since:
            return messages[since]
        await asyncio.sleep(0.02)
    raise AssertionError(f"no reply to {text_!r} within {timeout} s")


@pytest.mark.postgres
async def test_postgres_goes_away_and_comes_back(settings, fake_bot_api):
    schema, url = fresh_postgres_schema()
    target = make_url(url)
    upgrade_to_head(url)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432).start()
    engine = make_engine(
        target.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False),
        connect_timeout_s=2, pool_timeout_s=2,
    )
    settings.telegram_base_url = fake_bot_api.base_url
    settings.telegram_base_file_url = fake_bot_api.base_file_url
    app = build_application(settings, policy_service=object(), engine=engine, token=FAKE_TOKEN)
    api = fake_bot_api.api
    try:
        async with running_application(app, poll_timeout=0.2):
            first = await _send_and_wait(api, 9001, "/start")
            assert first.text != BUSY_ZH and "托育助手" in first.text

            proxy.stop()  # PostgreSQL is gone: connections cut, new ones refused
            started = time.monotonic()
            busy = await _send_and_wait(api, 9002, "/start")
            assert busy.text == BUSY_ZH
            assert time.monotonic() - started < 5
            assert "Traceback" not in (busy.text or "")
            still = await _send_and_wait(api, 9001, "/help")  # a user whose turn needs no database
            assert "/find" in still.text

            proxy.start()  # it is back: the next update works without a restart
            back = await _send_and_wait(api, 9002, "/start")
            assert back.text != BUSY_ZH and "托育助手" in back.text
    finally:
        proxy.stop()
        engine.dispose()
        drop_postgres_schema(schema)


async def test_held_sqlite_write_lock_stalls_no_one_beyond_the_timeout(settings, fake_bot_api):
    settings.db_busy_timeout_s = 1.0
    settings.telegram_base_url = fake_bot_api.base_url
    settings.telegram_base_file_url = fake_bot_api.base_file_url
    app = build_application(settings, policy_service=object(), token=FAKE_TOKEN)
    api = fake_bot_api.api
    db_path = settings.data_dir / "tuoyu.sqlite3"
    async with running_application(app, poll_timeout=0.2):
        await _send_and_wait(api, 9102, "/start")  # user B is known

        locked, release = threading.Event(), threading.Event()

        def hold_write_lock() -> None:
            conn = sqlite3.connect(db_path, timeout=0)
            conn.execute("BEGIN IMMEDIATE")
            locked.set()
            release.wait(10)
            conn.rollback()
            conn.close()

        holder = threading.Thread(target=hold_write_lock)
        holder.start()
        try:
            assert locked.wait(5)
            started = time.monotonic()
            api.user_sends_text(9101, "/start")  # user A needs to write: waits at most the busy timeout
            b_reply = await _send_and_wait(api, 9102, "/help")  # user B only reads
            b_elapsed = time.monotonic() - started
            a_reply = await _reply_to(api, 9101, timeout=6)
            a_elapsed = time.monotonic() - started
        finally:
            release.set()
            holder.join()
        assert "/find" in b_reply.text
        assert b_elapsed < 0.8, f"an unrelated reader waited {b_elapsed:.2f} s behind the lock"
        assert a_reply.text == BUSY_ZH
        assert a_elapsed < 3.0, f"the writer waited {a_elapsed:.2f} s although the busy timeout is 1 s"

        again = await _send_and_wait(api, 9101, "/start")  # lock gone: normal service
        assert "托育助手" in again.text
