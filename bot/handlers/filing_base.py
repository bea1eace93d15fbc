"""The filing flow's membership (who is in the flow, kept in `bot.state`, cached per update) and the helpers
every filing handler shares: sending and editing, answering taps, showing the checklist, resuming a case.
See `bot.handlers.filing` for the flow as a whole."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    filters,
)

from bot.context import BotContext
from bot.handlers.filing_views import (
    _esc,
    _title,
    checklist_view,
    nature_view,
)
from bot.render import split_message
from bot.state import FlowState, StateConflict, load_flow_state
from bot.texts import t
from db.filing import cases as F
from db.filing.workflow import Workflow, WorkflowError, get_workflow

log = logging.getLogger(__name__)

FLOW = "filing"  # the bot.state flow name
SEEN_KEY = "filing_seen"  # user_data, a per-update cache: {(update id, object id): the FlowState loaded for it}
_SEEN_KEEP = 4  # updates of one user remembered (only the current one is ever read)
ACTIVE_SECONDS = 24 * 3600
FLOW_GROUP = -30
_ASKS_ABOUT_FILING = re.compile(r"备案|登记|材料|清单|filing|checklist|registration", re.IGNORECASE)
KEEP_FLOW_COMMANDS = {"filing", "help", "lang"}


def _update_key(update: Update) -> tuple[int, int]:
    """This very update: its id, and the object (a re-delivered update is a new object, loaded afresh)."""
    return update.update_id, id(update)


def _seen(user_data: dict | None, update: Update) -> FlowState | None:
    """The filing state loaded for this update (by `note_flow` or a handler), or None."""
    if not user_data:
        return None
    return (user_data.get(SEEN_KEY) or {}).get(_update_key(update))


def _keep(context: BotContext, update: Update, state: FlowState) -> None:
    if context.user_data is None:
        return
    seen = context.user_data.setdefault(SEEN_KEY, {})
    seen[_update_key(update)] = state
    while len(seen) > _SEEN_KEEP:
        seen.pop(next(iter(seen)))


async def _state(update: Update, context: BotContext) -> FlowState:
    """The user's filing state for this update: loaded once (off the event loop), then reused."""
    state = _seen(context.user_data, update)
    if state is None:
        state = await load_flow_state(context, update.effective_user.id, FLOW)
        _keep(context, update, state)
    return state


async def _save(state: FlowState) -> None:
    """Store the membership; a concurrent change by another worker wins (see the module docstring)."""
    try:
        await state.save()
    except StateConflict:
        log.info("filing state of user %s changed concurrently; kept the other change", state.user_id)


async def _enter(update: Update, context: BotContext, case_id: int) -> None:
    """The operator is working on `case_id` now (reminders may follow policy answers), stored before answering."""
    state = await _state(update, context)
    state["case"] = case_id
    state["at"] = time.time()
    state.pop("restored", None)
    await _save(state)


def _restored_state(case: F.CaseView | None) -> dict | None:
    """The flow state derived from the database when none is stored: the operator's open case with a legal
    nature. Marked `restored`: typed answers the flow asked for (the institution's name, the class plan) and
    files still go to the case, but policy answers get no reminder appended — the operator may long have moved
    on."""
    if case is None or not case.legal_nature:
        return None
    return {"case": case.id, "at": case.updated_at.timestamp(), "restored": True}


async def note_flow(update: Update, context: BotContext) -> None:
    """Early group (`FLOW_GROUP`): load the user's filing state in a worker thread (deriving it from their open
    case when none is stored) and keep it for this update. The filters below then only read memory — no
    database work inside a filter on the event loop."""
    user = update.effective_user
    if user is None or context.user_data is None:
        return
    try:
        state = await load_flow_state(context, user.id, FLOW)
        if "case" not in state:
            case = await asyncio.to_thread(F.current_case, context.runtime.engine, user.id)
            state.update(_restored_state(case) or {})
    except Exception:  # a database problem must not break unrelated messages
        log.exception("Could not look up the filing state of user %s", user.id)
        return
    _keep(context, update, state)


def _member(state: FlowState | None, window: float | None) -> bool:
    if state is None or not state.get("case"):
        return False
    return window is None or time.time() - float(state.get("at") or 0) < window


def in_flow(update: Update, context: BotContext) -> bool:
    """Whether this update's user is in the filing flow (any time since they last worked on it), as `note_flow`
    found it for THIS update: for other flows deciding who a message belongs to. Reads memory only; False when
    `note_flow` did not run for the update (callbacks, commands)."""
    return _member(_seen(context.user_data, update), None)


class _InFlow(filters.UpdateFilter):
    """True when the update's user is in the filing flow, as `note_flow` loaded it for this very update (worked
    on within `window` seconds; None: any time). Reads memory only."""

    def __init__(self, application: Application, window: float | None, name: str):
        super().__init__(name=name)
        self.application = application
        self.window = window

    def filter(self, update: Update) -> bool:
        user = update.effective_user
        if user is None:
            return False
        return _member(_seen(self.application.user_data.get(user.id), update), self.window)


async def leave_flow_on_command(update: Update, context: BotContext) -> None:
    """Any other command (e.g. /find, /kb) leaves the filing flow (runs in an early group, stops nothing)."""
    text = (update.effective_message.text or "").strip()
    command = text.split()[0][1:].split("@")[0].lower() if text.startswith("/") else ""
    if not command or command in KEEP_FLOW_COMMANDS or update.effective_user is None:
        return
    try:
        state = await _state(update, context)
        if "case" not in state and _restored_state(
            await asyncio.to_thread(F.current_case, context.runtime.engine, update.effective_user.id)
        ) is None:
            return  # never in the flow (no stored state, no open case): nothing to leave, nothing stored
        if state.get("case", ...) is not None:
            state["case"] = None
            state.pop("restored", None)
            await _save(state)
    except Exception:  # a database problem must not break the command itself
        log.exception("Could not record that user %s left the filing flow", update.effective_user.id)


async def _workflow(context: BotContext) -> Workflow:
    return await asyncio.to_thread(get_workflow, context.runtime.settings.knowledge_dir)


async def _workflow_or_say(update: Update, context: BotContext, lang: str) -> Workflow | None:
    """The workflow, or None after telling the operator its data is broken (logged)."""
    try:
        return await _workflow(context)
    except WorkflowError:
        log.exception("The filing workflow data is invalid")
        await _send(update, context, t("fl_data_error", lang))
        return None


async def _db(fn, *args):
    return await asyncio.to_thread(fn, *args)


async def _send(update: Update, context: BotContext, text: str,
                markup: InlineKeyboardMarkup | None = None, *, html_mode: bool = True) -> Message:
    parts = split_message(text)
    sent = None
    for i, part in enumerate(parts):
        sent = await context.bot.send_message(
            update.effective_chat.id, part, parse_mode=ParseMode.HTML if html_mode else None,
            reply_markup=markup if i == len(parts) - 1 else None, disable_web_page_preview=True,
        )
    return sent


async def _show(update: Update, context: BotContext, text: str, markup: InlineKeyboardMarkup) -> None:
    """Replace the tapped message with this view (or send it anew when that message cannot be edited)."""
    query = update.callback_query
    message = query.message if query is not None else None
    if isinstance(message, Message) and len(text) <= 4096:
        try:
            await message.edit_text(text, reply_markup=markup,
                                    disable_web_page_preview=True)
            return
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return
            log.info("Could not edit the filing message (%s); sending a new one", exc)
    await _send(update, context, text, markup)


async def _answer(update: Update, text: str | None = None, *, alert: bool = False) -> None:
    query = update.callback_query
    if query is None:
        return
    with contextlib.suppress(TelegramError):  # already answered, or too old: nothing more to say
        await query.answer(text, show_alert=alert)


async def _case_count(context: BotContext, user_id: int) -> int:
    return len(await _db(F.list_cases, context.runtime.engine, user_id))


async def _send_checklist(update: Update, context: BotContext, wf: Workflow, case: F.CaseView,
                          lang: str, *, prefix: str = "", edit: bool = False) -> None:
    text, markup = checklist_view(wf, case, lang, await _case_count(context, case.operator_id))
    if prefix:
        text = f"{prefix}\n\n{text}"
    if edit:
        await _show(update, context, text, markup)
    else:
        await _send(update, context, text, markup)


async def _resume(update: Update, context: BotContext) -> None:
    lang = context.language
    user_id = update.effective_user.id
    engine = context.runtime.engine
    wf = await _workflow_or_say(update, context, lang)
    if wf is None:
        return
    case = await _db(F.current_case, engine, user_id)
    if case is None:
        case = await _db(F.start_case, engine, user_id)
    await _enter(update, context, case.id)
    if not case.legal_nature or wf.nature(case.legal_nature) is None:
        text, markup = nature_view(wf, case, lang)
        await _send(update, context, text, markup)
        return
    if case.step != "checklist":
        case = await _db(F.set_step, engine, user_id, case.id, "checklist")
    await _send_checklist(update, context, wf, case, lang, prefix=_esc(t("fl_resume", lang, title=_title(case, lang))))


async def _reshow_case(update: Update, context: BotContext, lang: str, case_id: int) -> None:
    try:
        wf = await _workflow(context)
        case = await _db(F.get_case, context.runtime.engine, update.effective_user.id, case_id)
    except (F.FilingError, WorkflowError):
        return
    if case.legal_nature and wf.nature(case.legal_nature) is not None:
        await _send_checklist(update, context, wf, case, lang)
    else:
        text, markup = nature_view(wf, case, lang)
        await _send(update, context, text, markup)
