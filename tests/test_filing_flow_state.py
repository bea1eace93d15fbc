"""Filing-flow membership: looked up once in an early async handler (in a worker thread) and stashed in
user_data; the filters only read memory (no database work inside a filter on the event loop). After a
restart the state comes back marked `restored` (no reminders appended to unrelated answers)."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

from bot.handlers import filing as H
from db import filing as F
from db.engine import make_engine
from db.filing_workflow import load_workflow
from db.migrate import upgrade_to_head

USER = 4242


class _ForbiddenEngine:
    """Any use of this engine fails the test: the filter must not touch the database."""

    def __getattr__(self, name):
        raise AssertionError(f"database touched inside a filter ({name})")


def _app(user_data: dict, engine) -> SimpleNamespace:
    return SimpleNamespace(user_data=user_data, bot_data={"runtime": SimpleNamespace(engine=engine)})


def _update(user_id: int | None = USER) -> SimpleNamespace:
    return SimpleNamespace(effective_user=SimpleNamespace(id=user_id) if user_id is not None else None)


def test_filter_reads_memory_only():
    user_data: dict = {USER: {}}
    app = _app(user_data, _ForbiddenEngine())
    text_filter = H._InFlow(app, H.ACTIVE_SECONDS, "t")
    files_filter = H._InFlow(app, None, "f")
    assert not text_filter.filter(_update()) and not files_filter.filter(_update())
    assert not text_filter.filter(_update(None))
    user_data[USER][H.FLOW_KEY] = {"case": 1, "at": time.time()}
    assert text_filter.filter(_update()) and files_filter.filter(_update())
    user_data[USER][H.FLOW_KEY] = {"case": 1, "at": time.time() - H.ACTIVE_SECONDS - 1, "restored": True}
    assert not text_filter.filter(_update()) and files_filter.filter(_update())
    user_data[USER][H.FLOW_KEY] = None  # left the flow (another command)
    assert not files_filter.filter(_update())


async def test_note_flow_looks_up_the_case_off_the_event_loop(tmp_path, monkeypatch):
    engine = make_engine(f"sqlite:///{tmp_path / 'flow.db'}")
    upgrade_to_head(engine)
    case = F.start_case(engine, USER)
    F.choose_nature(engine, USER, case.id, "for_profit", load_workflow())
    threads: list[str] = []
    real = F.current_case

    def spy(*args):
        threads.append(threading.current_thread().name)
        return real(*args)

    monkeypatch.setattr(F, "current_case", spy)
    context = SimpleNamespace(user_data={}, application=_app({}, engine))
    await H.note_flow(_update(), context)
    state = context.user_data[H.FLOW_KEY]
    assert state["case"] == case.id and state["restored"] is True
    assert threads and threads[0] != threading.main_thread().name  # a worker thread, not the event loop
    await H.note_flow(_update(), context)  # known now: not looked up again
    assert len(threads) == 1
    fresh = SimpleNamespace(user_data={}, application=_app({}, engine))
    await H.note_flow(_update(USER + 1), fresh)  # no case: not in the flow
    assert fresh.user_data[H.FLOW_KEY] is None


class _Message:
    def __init__(self) -> None:
        self.replies: list[str] = []

    async def reply_text(self, text: str, **kwargs) -> None:
        self.replies.append(text)


async def test_personal_commands_answer_only_in_private_chats():
    """/filing, /kb and /roles in a group: the user is pointed to the private chat; nothing else happens
    (no case is opened, no role is looked up — the engine would fail the test)."""
    from bot.handlers import staff
    from bot.texts import t

    for command in (H.filing_command, staff.kb_command, staff.roles_command):
        message = _Message()
        update = SimpleNamespace(
            effective_chat=SimpleNamespace(type="group", id=-100), effective_user=SimpleNamespace(id=USER),
            effective_message=message, callback_query=None,
        )
        context = SimpleNamespace(
            user_data={"lang": "zh"}, bot=SimpleNamespace(username="tuoyu_bot"),
            application=_app({}, _ForbiddenEngine()),
        )
        await command(update, context)
        assert message.replies == [t("private_only", "zh")], command.__name__
