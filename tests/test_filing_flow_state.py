"""Filing-flow membership: stored in the database (`bot.state`, flow "filing"), loaded once per update in an early
async handler (in a worker thread) and kept for THAT update; the filters only read memory (no database work
inside a filter on the event loop). With no stored state it is derived from the open case, marked `restored`
(no reminders appended to unrelated answers)."""

from __future__ import annotations

import asyncio
import threading
import time
from types import SimpleNamespace

from bot import state
from bot.handlers import filing as H
from bot.state import FlowState
from db.core.engine import make_engine, run_unit
from db.core.migrate import upgrade_to_head
from db.filing import cases as F
from db.filing.workflow import load_workflow
from tests.unit_of_work import load_state

USER = 4242


class _ForbiddenEngine:
    """Any use of this engine fails the test: the filter must not touch the database."""

    def __getattr__(self, name):
        raise AssertionError(f"database touched inside a filter ({name})")


def _app(user_data: dict, engine) -> SimpleNamespace:
    return SimpleNamespace(user_data=user_data, bot_data={"runtime": SimpleNamespace(engine=engine)})


_ids = iter(range(1, 10_000))


def _update(user_id: int | None = USER, text: str = "") -> SimpleNamespace:
    return SimpleNamespace(
        update_id=next(_ids), effective_user=SimpleNamespace(id=user_id) if user_id is not None else None,
        effective_message=SimpleNamespace(text=text),
    )


class _Context(SimpleNamespace):
    """What the filing handlers use of `bot.context.BotContext`: user_data, the application, `db(work)`."""

    async def db(self, fn, /, *args, **kwargs):
        engine = self.application.bot_data["runtime"].engine
        return await asyncio.to_thread(run_unit, engine, fn, *args, **kwargs)


def _context(app: SimpleNamespace, user_id: int = USER) -> _Context:
    return _Context(user_data=app.user_data.setdefault(user_id, {}), application=app)


def test_filter_reads_memory_only_and_only_what_was_loaded_for_this_update():
    user_data: dict = {USER: {}}
    app = _app(user_data, _ForbiddenEngine())
    text_filter = H._InFlow(app, H.ACTIVE_SECONDS, "t")
    files_filter = H._InFlow(app, None, "f")
    update = _update()
    assert not text_filter.filter(update) and not files_filter.filter(update)  # nothing loaded: not in the flow
    assert not text_filter.filter(_update(None))

    def loaded(data: dict) -> None:
        H._keep(_context(app), update, FlowState(_ForbiddenEngine(), USER, H.FLOW, data, 3))

    loaded({"case": 1, "at": time.time()})
    assert text_filter.filter(update) and files_filter.filter(update)
    assert H.in_flow(update, _context(app))
    # what other flows ask, without importing the filing flow
    assert state.in_flow(user_data[USER], update, "filing") and state.active_flows(_context(app), update) == ["filing"]
    assert not state.in_flow(user_data[USER], update, "kb"), "a flow that kept nothing for the update"
    other = _update()  # another update of the same user: what was loaded for the first one does not count
    assert not text_filter.filter(other) and not files_filter.filter(other) and not H.in_flow(other, _context(app))
    loaded({"case": 1, "at": time.time() - H.ACTIVE_SECONDS - 1, "restored": True})
    assert not text_filter.filter(update) and files_filter.filter(update)
    loaded({"case": None})  # left the flow (another command)
    assert not files_filter.filter(update) and not H.in_flow(update, _context(app))
    for _ in range(10):  # the per-update cache stays small
        H._keep(_context(app), _update(), FlowState(_ForbiddenEngine(), USER, H.FLOW, {}, None))
    assert len(user_data[USER][state.UPDATE_STATES_KEY]) == state.UPDATE_STATES_KEEP


async def test_note_flow_loads_the_state_off_the_event_loop_and_it_outlives_the_process(tmp_path, monkeypatch):
    engine = make_engine(f"sqlite:///{tmp_path / 'flow.db'}")
    upgrade_to_head(engine)
    case = run_unit(engine, F.start_case, USER)
    run_unit(engine, F.choose_nature, USER, case.id, "for_profit", load_workflow())
    threads: list[str] = []
    real = F.current_case

    def spy(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(F, "current_case", spy)
    app = _app({}, engine)
    update = _update()
    await H.note_flow(update, _context(app))
    state = H._seen(app.user_data[USER], update)
    assert state["case"] == case.id and state["restored"] is True  # nothing stored: derived from the case
    assert threads and threads[0] != threading.main_thread().name  # a worker thread, not the event loop
    assert load_state(engine, USER, H.FLOW) is None  # deriving stores nothing

    await H._enter(update, _context(app), case.id)  # the operator works on the case: stored
    stored = load_state(engine, USER, H.FLOW).data
    assert stored["case"] == case.id and "restored" not in stored

    fresh = _app({}, engine)  # a new process (or another worker): no memory, same state
    again = _update()
    await H.note_flow(again, _context(fresh))
    assert H._seen(fresh.user_data[USER], again)["case"] == case.id
    assert len(threads) == 1, "a stored state needs no look-up of the case"
    assert H._InFlow(fresh, H.ACTIVE_SECONDS, "t").filter(again)

    leave = _update(text="/find")  # another command leaves the flow, in the database
    await H.leave_flow_on_command(leave, _context(fresh))
    assert load_state(engine, USER, H.FLOW).data["case"] is None
    later = _app({}, engine)
    after = _update()
    await H.note_flow(after, _context(later))
    assert H._seen(later.user_data[USER], after) is not None and not H.in_flow(after, _context(later))

    nobody = _app({}, engine)
    stranger = _update(USER + 1)
    await H.note_flow(stranger, _context(nobody, USER + 1))  # no case: not in the flow
    assert not H.in_flow(stranger, _context(nobody, USER + 1))
    await H.leave_flow_on_command(_update(USER + 1, "/find"), _context(nobody, USER + 1))
    assert load_state(engine, USER + 1, H.FLOW) is None, "a user never in the flow gets no stored state"


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
        context = _Context(
            user_data={"lang": "zh"}, bot=SimpleNamespace(username="tuoyu_bot"), language="zh",
            application=_app({}, _ForbiddenEngine()),
        )
        await command(update, context)
        assert message.replies == [t("private_only", "zh")], command.__name__
