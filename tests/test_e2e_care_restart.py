"""kill -9 the real bot (`python -m bot run`, long polling against the fake Bot API over HTTP) in the middle of
a search and in the middle of a booking; a new process continues from the next tap on the old messages,
because the care flow keeps its state in the database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time as clock
from datetime import timedelta
from pathlib import Path

import pytest

from db.care import booking
from db.core.engine import run_unit, session_scope
from db.core.timeutil import local_today
from db.models import Institution
from tests.db_fixtures import db_engine_fixture, engine_url, make_session  # noqa: F401
from tests.fakes.fixtures import FAKE_TOKEN, fake_bot_api  # noqa: F401
from tests.unit_of_work import load_state

ROOT = Path(__file__).resolve().parent.parent
PARENT, OPERATOR = 9191, 9292
WAIT = 90.0  # a cold process imports PTB and SQLAlchemy while it loads the policy model in the background


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


@pytest.fixture
def centre(db_engine):  # noqa: F811
    with session_scope(db_engine) as session:
        institution = Institution(
            name="白鹭托育中心", city="厦门市", district="思明区", address="思明区测试路3号", lat=24.48, lon=118.09,
            legal_nature="营利性", form="社区嵌入式", puhui=True, filing_status="已备案", age_min_months=12,
            age_max_months=36, services=["全日托", "临时托"], fees={"全日托": 1600, "临时托": 120}, total_places=40,
            free_places=5, operator_user_id=OPERATOR,
        )
        session.add(institution)
        session.flush()
        institution_id = institution.id
    session_id = make_session(
        db_engine, institution_id, local_today() + timedelta(days=2), capacity=2, price=120, age_min_months=12,
        age_max_months=36,
    )
    return institution_id, session_id


async def _answer(api, since: int, predicate, proc: BotProcess):
    try:
        return await api.wait_for_bot(predicate, timeout=WAIT, chat_id=PARENT, since=since)
    except TimeoutError as error:
        raise AssertionError(f"no answer; bot log:\n{proc.tail()}") from error


def _current(api, message_id: int):
    return next(m for m in api.messages_to(PARENT) if m.message_id == message_id)


async def _quiet(api) -> None:
    """Let the process confirm the updates it fetched (its next getUpdates carries the offset) before a kill."""
    deadline = clock.monotonic() + 5
    while clock.monotonic() < deadline and any(u for u in api._updates):
        await asyncio.sleep(0.05)


async def test_kill_9_mid_search_and_mid_booking_then_the_next_tap_continues(
    db_engine, fake_bot_api, centre, tmp_path  # noqa: F811
):
    api = fake_bot_api.api
    api.add_user(OPERATOR)
    institution_id, session_id = centre
    url = engine_url(db_engine)
    procs: list[BotProcess] = []

    def start() -> BotProcess:
        procs.append(BotProcess(fake_bot_api, url, tmp_path, len(procs)))
        return procs[-1]

    try:
        bot = start()
        since = api.seq
        api.user_sends_text(PARENT, "/find")
        await _answer(api, since, lambda m: "发送您的位置" in (m.text or ""), bot)
        since = api.seq
        api.user_sends_text(PARENT, "思明区")
        results = await _answer(api, since, lambda m: bool(m.buttons) and "白鹭托育中心" in m.text, bot)
        since = api.seq
        api.user_taps_button(PARENT, results.message_id, "care:f:svc")
        await _answer(api, since, lambda m: m.message_id == results.message_id, bot)
        since = api.seq
        api.user_taps_button(PARENT, results.message_id, "care:set:svc:temp")
        await _answer(api, since, lambda m: m.message_id == results.message_id and "筛选：临时托" in m.text, bot)
        await _quiet(api)

        bot.kill9()  # mid-search: the filters live on only in the database
        assert load_state(db_engine, PARENT, "care").data["search"]["service"] == "临时托"
        bot = start()
        since = api.seq
        api.user_taps_button(PARENT, results.message_id, "care:tog:puhui")
        edited = await _answer(api, since, lambda m: m.message_id == results.message_id, bot)
        assert "筛选：临时托，普惠" in edited.text or "筛选：临时托，只看普惠" in edited.text, edited.text
        since = api.seq
        api.user_taps_button(PARENT, results.message_id, f"care:inst:{institution_id}")
        card = await _answer(api, since, lambda m: m.kind == "message" and "半天" in " ".join(m.button_texts), bot)
        since = api.seq
        api.user_taps_button(PARENT, card.message_id, card.callback_data("半天"))
        ask = await _answer(api, since, lambda m: "孩子多大" in (m.text or ""), bot)
        await _quiet(api)

        bot.kill9()  # mid-booking: the session chosen waits for a typed age
        assert load_state(db_engine, PARENT, "care").data["await"]["session"] == session_id
        bot = start()
        since = api.seq
        api.user_sends_text(PARENT, "20个月")
        confirm = await _answer(api, since, lambda m: "请确认预约" in (m.text or ""), bot)
        assert "孩子 20 个月" in confirm.text
        await _quiet(api)

        bot.kill9()  # about to confirm
        bot = start()
        since = api.seq
        api.user_taps_button(PARENT, confirm.message_id, confirm.callback_data("确认"))
        booked = await _answer(api, since, lambda m: "预约成功" in (m.text or ""), bot)
        [view] = run_unit(db_engine, booking.list_bookings, PARENT)
        assert view.session_id == session_id and view.child_age_months == 20 and view.code in booked.text
        await api.wait_for_bot(lambda m: view.code in (m.text or ""), timeout=WAIT, chat_id=OPERATOR, since=since)
        # The age buttons of the old question still work after yet another restart (a second child, same tap).
        await _quiet(api)
        bot.kill9()
        bot = start()
        since = api.seq
        api.user_taps_button(PARENT, ask.message_id, ask.buttons[0][0][1])
        again = await _answer(api, since, lambda m: "请确认预约" in (m.text or ""), bot)
        assert "白鹭托育中心" in again.text
        notes = api.messages_to(OPERATOR)
        assert len(notes) == 1 and view.code in notes[0].text
        assert "出了点问题" not in " ".join(m.text or "" for m in api.messages_to(PARENT))
    finally:
        for proc in procs:
            proc.stop()
