"""The filing flow's membership (who is in the flow, kept in `bot.state`, cached per update) and the helpers
every filing handler shares: one turn's context (`Turn`), units of work that also count the operator's cases,
sending and editing, answering taps, showing the checklist, resuming a case.
See `bot.handlers.filing` for the flow as a whole."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session
from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import Application, filters

from bot import state as flows
from bot.context import BotContext
from bot.handlers.filing_views import _esc, _title, checklist_view, nature_view
from bot.render import split_message
from bot.state import FlowState, StateConflict, load_flow_state
from bot.texts import t
from db.filing import cases as F
from db.filing.workflow import Workflow, WorkflowError, get_workflow

log = logging.getLogger(__name__)

FLOW = "filing"  # the bot.state flow name
ACTIVE_SECONDS = 24 * 3600
#: The handler group of `note_flow`: before the staff flow's early group (-20), which also asks whether a
#: document belongs to the filing flow.
FLOW_GROUP = -30
#: A question about filing itself: worth a reminder of where the operator's own case stands.
_ASKS_ABOUT_FILING = re.compile(r"备案|登记|材料|清单|filing|checklist|registration", re.IGNORECASE)
#: Commands that do not take the operator out of the filing flow.
KEEP_FLOW_COMMANDS = {"filing", "help", "lang"}


# --- Membership -------------------------------------------------------------------------------------------------


def _member(state: FlowState | None, window: float | None) -> bool:
    if state is None or not state.get("case"):
        return False
    return window is None or time.time() - float(state.get("at") or 0) < window


flows.define_membership(FLOW, _member)


def _seen(user_data: dict | None, update: Update) -> FlowState | None:
    """The filing state loaded for this update (by `note_flow` or a handler), or None."""
    return flows.kept_for_update(user_data, update, FLOW)


def _keep(context: BotContext, update: Update, state: FlowState) -> None:
    flows.keep_for_update(context.user_data, update, state)


async def _state(update: Update, context: BotContext) -> FlowState:
    """The user's filing state for this update: loaded once (off the event loop), then reused."""
    state = _seen(context.user_data, update)
    if state is None:
        state = await load_flow_state(context, update.effective_user.id, FLOW)
        _keep(context, update, state)
    return state


async def _save(state: FlowState) -> None:
    """Store the membership; a concurrent change by another worker wins (see `bot.handlers.filing`)."""
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
            state.update(_restored_state(await context.db(F.current_case, user.id)) or {})
    except Exception:  # a database problem must not break unrelated messages
        log.exception("Could not look up the filing state of user %s", user.id)
        return
    _keep(context, update, state)


def in_flow(update: Update, context: BotContext) -> bool:
    """Whether this update's user is in the filing flow (any time since they last worked on it), as `note_flow`
    found it for THIS update (`bot.state.in_flow(user_data, update, "filing")` says the same to other flows).
    Reads memory only; False when `note_flow` did not run for the update (callbacks, commands)."""
    return flows.in_flow(context.user_data, update, FLOW)


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
        return flows.in_flow(self.application.user_data.get(user.id), update, FLOW, self.window)


async def leave_flow_on_command(update: Update, context: BotContext) -> None:
    """Any other command (e.g. /find, /kb) leaves the filing flow (runs in an early group, stops nothing)."""
    text = (update.effective_message.text or "").strip()
    command = text.split()[0][1:].split("@")[0].lower() if text.startswith("/") else ""
    if not command or command in KEEP_FLOW_COMMANDS or update.effective_user is None:
        return
    try:
        state = await _state(update, context)
        if "case" not in state and _restored_state(
            await context.db(F.current_case, update.effective_user.id)
        ) is None:
            return  # never in the flow (no stored state, no open case): nothing to leave, nothing stored
        if state.get("case", ...) is not None:
            state["case"] = None
            state.pop("restored", None)
            await _save(state)
    except Exception:  # a database problem must not break the command itself
        log.exception("Could not record that user %s left the filing flow", update.effective_user.id)


# --- One turn and its unit of work -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    """What every step of one filing update needs: the update, its context, the workflow and the language."""

    update: Update
    context: BotContext
    wf: Workflow
    lang: str

    @property
    def user_id(self) -> int:
        """The operator (the update's user)."""
        return self.update.effective_user.id


@dataclass(frozen=True)
class Screen:
    """A case as a handler shows it: the case and how many open cases its operator has (the checklist's
    "cases" button)."""

    case: F.CaseView
    n_cases: int = 1


def counted(change: Callable[..., F.CaseView]) -> Callable[..., Screen]:
    """`change(*args, session=…)`, then the operator's number of open cases, in the same unit of work."""

    def work(*args, session: Session, **kwargs) -> Screen:
        case = change(*args, session=session, **kwargs)
        return Screen(case, len(F.list_cases(case.operator_id, session=session)))

    return work


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


# --- Sending ---------------------------------------------------------------------------------------------------


async def _send(update: Update, context: BotContext, text: str,
                markup: InlineKeyboardMarkup | None = None, *, html_mode: bool = True) -> Message:
    """Send `text` (HTML unless `html_mode` is False), split when too long; the keyboard goes on the last part."""
    plain = {} if html_mode else {"parse_mode": None}
    parts = split_message(text)
    sent = None
    for i, part in enumerate(parts):
        sent = await context.bot.send_message(
            update.effective_chat.id, part, reply_markup=markup if i == len(parts) - 1 else None,
            disable_web_page_preview=True, **plain,
        )
    return sent


async def _show(update: Update, context: BotContext, text: str, markup: InlineKeyboardMarkup) -> None:
    """Replace the tapped message with this view (or send it anew when that message cannot be edited)."""
    query = update.callback_query
    message = query.message if query is not None else None
    if isinstance(message, Message) and len(text) <= 4096:
        try:
            await message.edit_text(text, reply_markup=markup, disable_web_page_preview=True)
            return
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return
            log.info("Could not edit the filing message (%s); sending a new one", exc)
    await _send(update, context, text, markup)


async def _send_checklist(turn: Turn, screen: Screen, *, prefix: str = "", edit: bool = False) -> None:
    """The checklist of `screen.case` (edited into the tapped message when `edit`), after `prefix`."""
    text, markup = checklist_view(turn.wf, screen.case, turn.lang, screen.n_cases)
    if prefix:
        text = f"{prefix}\n\n{text}"
    if edit:
        await _show(turn.update, turn.context, text, markup)
    else:
        await _send(turn.update, turn.context, text, markup)


async def _send_case(turn: Turn, screen: Screen, *, prefix: str = "", edit: bool = False) -> None:
    """The checklist when the case has a (known) legal nature, else the choice of one."""
    case = screen.case
    if case.legal_nature and turn.wf.nature(case.legal_nature) is not None:
        await _send_checklist(turn, screen, prefix=prefix, edit=edit)
        return
    text, markup = nature_view(turn.wf, case, turn.lang)
    if edit:
        await _show(turn.update, turn.context, text, markup)
    else:
        await _send(turn.update, turn.context, text, markup)


# --- Resuming ----------------------------------------------------------------------------------------------------


def _resume_work(user_id: int, wf: Workflow, *, session: Session) -> Screen:
    """The case /filing resumes (a new one when there is none), back at its checklist when it has a nature."""
    case = F.current_case(user_id, session=session) or F.start_case(user_id, session=session)
    if case.legal_nature and wf.nature(case.legal_nature) is not None and case.step != "checklist":
        case = F.set_step(user_id, case.id, "checklist", session=session)
    return Screen(case, len(F.list_cases(user_id, session=session)))


async def _resume(update: Update, context: BotContext) -> None:
    lang = context.language
    wf = await _workflow_or_say(update, context, lang)
    if wf is None:
        return
    turn = Turn(update, context, wf, lang)
    screen = await context.db(_resume_work, turn.user_id, wf)
    await _enter(update, context, screen.case.id)
    await _send_case(turn, screen, prefix=_esc(t("fl_resume", lang, title=_title(screen.case, lang))))


async def _reshow_case(update: Update, context: BotContext, lang: str, case_id: int) -> None:
    try:
        wf = await _workflow(context)
        screen = await context.db(counted(F.get_case), update.effective_user.id, case_id)
    except (F.FilingError, WorkflowError):
        return
    await _send_case(Turn(update, context, wf, lang), screen)
