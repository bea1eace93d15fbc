"""Operators' registration and filing (登记 → 备案) walk-through: /filing, its buttons, uploads and typed input.

Thin layer: the workflow facts come from `db.filing_workflow` (knowledge/filing.yaml), the case and checklist
state from `db.filing`, the class check from `db.readiness`, the summary from `db.filing_summary`.

State lives in the database, never only in memory:
* every button carries what it needs (`fl:<action>:<case id>[:<item id>]`, ≤ 64 bytes), so a button from
  days ago, or from before a restart, still works — or gets a polite answer when its case/item is gone;
* the case remembers its step (nature / checklist / plan / title) and the item last opened (a file sent next
  is filed there), so /filing resumes exactly where the operator was.

While an operator is in the flow (used it in the last 24 hours and has not switched to another command since),
typed text is answered by policy QA followed by a reminder of where they are in the checklist, or read as
the class plan / institution name when the flow asked for one; files and photos go to the current item.

Flow membership lives in the database too (`bot.state`, flow "filing"), so a restart or another worker continues
it. Its keys:

* "case": the id of the case worked on; None once the operator left the flow (another command);
* "at": when they last worked on it (epoch seconds);
* "restored": True when the membership was derived from the operator's open case because no state was stored
  (e.g. purged after weeks of silence): typed answers and files still go to the case, but policy answers get
  no reminder appended.

An early handler (`note_flow`, group `FLOW_GROUP`) loads the state in a worker thread and keeps it for THIS
update only (`SEEN_KEY` in user_data, keyed by update id — a per-update cache, never the source of truth); the
filters and `in_flow` read that, so no filter touches the database on the event loop. Membership is
last-writer-wins: two workers recording the same operator's entry at the same moment is harmless (the case and
checklist rules live in `db.filing`), so a `StateConflict` here is logged, not shown.
"""

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
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.callbacks import CallbackError
from bot.handlers import policy
from bot.handlers.common import require_private_chat
from bot.handlers.filing_views import (  # noqa: F401  (the views are re-exported: tests import them here)
    A_CASES,
    A_CHANGE_NATURE,
    A_CHECK,
    A_CHECKLIST,
    A_CITY_MENU,
    A_CLEAR,
    A_GO,
    A_ITEM,
    A_NATURE,
    A_NEW,
    A_NOT_APPLICABLE,
    A_READY,
    A_REGISTRATION,
    A_RENAME,
    A_SET_CITY,
    A_SUMMARY,
    A_WHAT,
    CODEC,
    MARKS,
    _back,
    _button,
    _class_types_text,
    _esc,
    _mb,
    _next_and_back,
    _size,
    _stored_report,
    _title,
    checklist_view,
    item_view,
    nature_view,
    plan_prompt,
    registration_text,
    report_lines,
    what_text,
)
from bot.render import split_message
from bot.runtime import runtime, user_language
from bot.state import FlowState, StateConflict, load_flow_state
from bot.texts import join_names, t
from bot.texts_filing import summary_labels
from db import filing as F
from db.filing_pdf import pdf_filename, summary_pdf
from db.filing_summary import build_summary, docx_filename, summary_brief, summary_docx
from db.filing_workflow import Workflow, WorkflowError, get_workflow
from db.readiness import check_plan, parse_plan

log = logging.getLogger(__name__)

FLOW = "filing"  # the bot.state flow name
SEEN_KEY = "filing_seen"  # user_data, a per-update cache: {(update id, object id): the FlowState loaded for it}
_SEEN_KEEP = 4  # updates of one user remembered (only the current one is ever read)
ACTIVE_SECONDS = 24 * 3600
#: The handler group of `note_flow`: before the staff flow's early group (-20), which also asks whether a
#: document belongs to the filing flow.
FLOW_GROUP = -30
#: A question about filing itself: worth a reminder of where the operator's own case stands.
_ASKS_ABOUT_FILING = re.compile(r"备案|登记|材料|清单|filing|checklist|registration", re.IGNORECASE)
#: Commands that do not take the operator out of the filing flow.
KEEP_FLOW_COMMANDS = {"filing", "help", "lang"}
# --- Flow membership ------------------------------------------------------------------------------------------


def _update_key(update: Update) -> tuple[int, int]:
    """This very update: its id, and the object (a re-delivered update is a new object, loaded afresh)."""
    return update.update_id, id(update)


def _seen(user_data: dict | None, update: Update) -> FlowState | None:
    """The filing state loaded for this update (by `note_flow` or a handler), or None."""
    if not user_data:
        return None
    return (user_data.get(SEEN_KEY) or {}).get(_update_key(update))


def _keep(context: ContextTypes.DEFAULT_TYPE, update: Update, state: FlowState) -> None:
    if context.user_data is None:
        return
    seen = context.user_data.setdefault(SEEN_KEY, {})
    seen[_update_key(update)] = state
    while len(seen) > _SEEN_KEEP:
        seen.pop(next(iter(seen)))


async def _state(update: Update, context: ContextTypes.DEFAULT_TYPE) -> FlowState:
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


async def _enter(update: Update, context: ContextTypes.DEFAULT_TYPE, case_id: int) -> None:
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


async def note_flow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Early group (`FLOW_GROUP`): load the user's filing state in a worker thread (deriving it from their open
    case when none is stored) and keep it for this update. The filters below then only read memory — no
    database work inside a filter on the event loop."""
    user = update.effective_user
    if user is None or context.user_data is None:
        return
    try:
        state = await load_flow_state(context, user.id, FLOW)
        if "case" not in state:
            case = await asyncio.to_thread(F.current_case, runtime(context).engine, user.id)
            state.update(_restored_state(case) or {})
    except Exception:  # a database problem must not break unrelated messages
        log.exception("Could not look up the filing state of user %s", user.id)
        return
    _keep(context, update, state)


def _member(state: FlowState | None, window: float | None) -> bool:
    if state is None or not state.get("case"):
        return False
    return window is None or time.time() - float(state.get("at") or 0) < window


def in_flow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
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


async def leave_flow_on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any other command (e.g. /find, /kb) leaves the filing flow (runs in an early group, stops nothing)."""
    text = (update.effective_message.text or "").strip()
    command = text.split()[0][1:].split("@")[0].lower() if text.startswith("/") else ""
    if not command or command in KEEP_FLOW_COMMANDS or update.effective_user is None:
        return
    try:
        state = await _state(update, context)
        if "case" not in state and _restored_state(
            await asyncio.to_thread(F.current_case, runtime(context).engine, update.effective_user.id)
        ) is None:
            return  # never in the flow (no stored state, no open case): nothing to leave, nothing stored
        if state.get("case", ...) is not None:
            state["case"] = None
            state.pop("restored", None)
            await _save(state)
    except Exception:  # a database problem must not break the command itself
        log.exception("Could not record that user %s left the filing flow", update.effective_user.id)


# --- Small helpers --------------------------------------------------------------------------------------------


async def _workflow(context: ContextTypes.DEFAULT_TYPE) -> Workflow:
    return await asyncio.to_thread(get_workflow, runtime(context).settings.knowledge_dir)


async def _db(fn, *args):
    return await asyncio.to_thread(fn, *args)


# --- Sending --------------------------------------------------------------------------------------------------


async def _send(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str,
                markup: InlineKeyboardMarkup | None = None, *, html_mode: bool = True) -> Message:
    parts = split_message(text)
    sent = None
    for i, part in enumerate(parts):
        sent = await context.bot.send_message(
            update.effective_chat.id, part, parse_mode=ParseMode.HTML if html_mode else None,
            reply_markup=markup if i == len(parts) - 1 else None, disable_web_page_preview=True,
        )
    return sent


async def _show(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, markup: InlineKeyboardMarkup) -> None:
    """Replace the tapped message with this view (or send it anew when that message cannot be edited)."""
    query = update.callback_query
    message = query.message if query is not None else None
    if isinstance(message, Message) and len(text) <= 4096:
        try:
            await message.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=markup,
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


async def _case_count(context: ContextTypes.DEFAULT_TYPE, user_id: int) -> int:
    return len(await _db(F.list_cases, runtime(context).engine, user_id))


async def _send_checklist(update: Update, context: ContextTypes.DEFAULT_TYPE, wf: Workflow, case: F.CaseView,
                          lang: str, *, prefix: str = "", edit: bool = False) -> None:
    text, markup = checklist_view(wf, case, lang, await _case_count(context, case.operator_id))
    if prefix:
        text = f"{prefix}\n\n{text}"
    if edit:
        await _show(update, context, text, markup)
    else:
        await _send(update, context, text, markup)


# --- /filing and resuming --------------------------------------------------------------------------------------


async def filing_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Start, or resume where the operator left off (derived from the database). Private chats only."""
    if update.effective_user is None or not await require_private_chat(update, context):
        return
    await _resume(update, context)


async def _resume(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    lang = user_language(update, context)
    user_id = update.effective_user.id
    engine = runtime(context).engine
    try:
        wf = await _workflow(context)
    except WorkflowError:
        log.exception("The filing workflow data is invalid")
        await _send(update, context, t("fl_data_error", lang))
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


# --- Buttons --------------------------------------------------------------------------------------------------


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every `fl:` button. Forged, stale or foreign buttons get a polite answer, never an error; nothing is
    stored for them (the data is decoded by `CODEC` before anything else happens)."""
    query = update.callback_query
    lang = user_language(update, context)
    try:
        decoded = CODEC.decode(query.data)
    except CallbackError:
        await _answer(update, t("stale_button", lang))
        return
    if query.message is None or update.effective_user is None:  # e.g. a button of an inline message
        await _answer(update, t("stale_button", lang))
        return
    if not await require_private_chat(update, context):
        return
    args = decoded.args
    case_id = args[0] if args else None
    arg = args[1] if len(args) > 1 else None
    try:
        wf = await _workflow(context)
        await _ACTIONS[decoded.action](update, context, wf, lang, case_id, arg)
    except WorkflowError:
        log.exception("The filing workflow data is invalid")
        await _answer(update, t("fl_data_error", lang), alert=True)
    except F.CaseNotFound:
        await _answer(update, t("fl_case_gone", lang), alert=True)
    except F.FilingError as exc:
        if exc.code == "too_many_cases":
            await _answer(update, t("fl_too_many_cases", lang), alert=True)
        else:  # an item or nature the data no longer has: answer, then show the current checklist
            await _answer(update, t("fl_stale", lang), alert=True)
            if case_id is not None:
                await _reshow_case(update, context, lang, case_id)


async def _reshow_case(update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str, case_id: int) -> None:
    try:
        wf = await _workflow(context)
        case = await _db(F.get_case, runtime(context).engine, update.effective_user.id, case_id)
    except (F.FilingError, WorkflowError):
        return
    if case.legal_nature and wf.nature(case.legal_nature) is not None:
        await _send_checklist(update, context, wf, case, lang)
    else:
        text, markup = nature_view(wf, case, lang)
        await _send(update, context, text, markup)


def _need(case_id: int | None, arg: str | None = None, *, with_arg: bool = False) -> int:
    """The case id of a decoded button (the codec guarantees it; this keeps the type checker honest)."""
    if case_id is None or (with_arg and arg is None):
        raise F.FilingError("incomplete")
    return case_id


async def _act_go(update, context, wf, lang, case_id, arg) -> None:
    await _answer(update)
    await _resume(update, context)


async def _act_nature(update, context, wf, lang, case_id, arg) -> None:
    case_id = _need(case_id, arg, with_arg=True)
    engine, user_id = runtime(context).engine, update.effective_user.id
    case = await _db(F.choose_nature, engine, user_id, case_id, arg, wf)
    await _enter(update, context, case.id)
    await _answer(update)
    markup = InlineKeyboardMarkup([[_button(t("fl_btn_nature", lang), A_CHANGE_NATURE, case.id)]])
    await _show(update, context, registration_text(wf, case.legal_nature, lang), markup)
    await _send_checklist(update, context, wf, case, lang)


async def _act_change_nature(update, context, wf, lang, case_id, arg) -> None:
    case = await _db(F.get_case, runtime(context).engine, update.effective_user.id, _need(case_id))
    await _enter(update, context, case.id)
    await _answer(update)
    text, markup = nature_view(wf, case, lang)
    await _show(update, context, text, markup)


async def _act_checklist(update, context, wf, lang, case_id, arg) -> None:
    engine, user_id = runtime(context).engine, update.effective_user.id
    case = await _db(F.set_step, engine, user_id, _need(case_id), "checklist")
    await _enter(update, context, case.id)
    await _answer(update)
    if not case.legal_nature or wf.nature(case.legal_nature) is None:
        text, markup = nature_view(wf, case, lang)
        await _show(update, context, text, markup)
        return
    await _send_checklist(update, context, wf, case, lang, edit=True)


async def _act_item(update, context, wf, lang, case_id, arg) -> None:
    case = await _db(F.open_item, runtime(context).engine, update.effective_user.id, _need(case_id, arg, with_arg=True),
                     arg, wf)
    await _enter(update, context, case.id)
    await _answer(update)
    text, markup = item_view(wf, case, case.item(wf, arg), lang)
    await _show(update, context, text, markup)


async def _act_what(update, context, wf, lang, case_id, arg) -> None:
    case = await _db(F.get_case, runtime(context).engine, update.effective_user.id, _need(case_id, arg, with_arg=True))
    item = case.item(wf, arg)
    if item is None:
        raise F.FilingError("unknown_item", arg)
    await _enter(update, context, case.id)
    await _answer(update)
    back_to_item = _button(t("fl_btn_back_item", lang, name=item.material.name.get(lang)), A_ITEM, case.id,
                           item.material.id)
    await _show(update, context, what_text(wf, item.material, lang),
                InlineKeyboardMarkup([[back_to_item], _back(case.id, lang)]))


async def _act_mark(update, context, wf, lang, case_id, arg, status: str) -> None:
    engine, user_id = runtime(context).engine, update.effective_user.id
    case_id = _need(case_id, arg, with_arg=True)
    try:
        case = await _db(F.mark_item, engine, user_id, case_id, arg, status, wf)
    except F.FilingError as exc:
        if exc.code != "not_allowed":
            raise
        material = wf.material(arg)
        key = "fl_not_allowed_na" if status == F.NOT_APPLICABLE else "fl_not_allowed_ready"
        await _answer(update, t(key, lang, name=material.name.get(lang) if material else arg), alert=True)
        return
    await _enter(update, context, case.id)
    material = wf.material(arg, case.city)
    key = "fl_marked_na" if status == F.NOT_APPLICABLE else "fl_marked_ready"
    await _answer(update, t(key, lang, name=material.name.get(lang)))
    await _send_checklist(update, context, wf, case, lang, edit=True)


async def _act_ready(update, context, wf, lang, case_id, arg) -> None:
    await _act_mark(update, context, wf, lang, case_id, arg, F.READY)


async def _act_not_applicable(update, context, wf, lang, case_id, arg) -> None:
    await _act_mark(update, context, wf, lang, case_id, arg, F.NOT_APPLICABLE)


async def _act_clear(update, context, wf, lang, case_id, arg) -> None:
    engine, user_id = runtime(context).engine, update.effective_user.id
    case = await _db(F.clear_item, engine, user_id, _need(case_id, arg, with_arg=True), arg)
    item = case.item(wf, arg)
    if item is None:
        raise F.FilingError("unknown_item", arg)
    await _enter(update, context, case.id)
    await _answer(update, t("fl_cleared", lang, name=item.material.name.get(lang)))
    text, markup = item_view(wf, case, item, lang)
    await _show(update, context, text, markup)


async def _act_summary(update, context, wf, lang, case_id, arg) -> None:
    engine, user_id = runtime(context).engine, update.effective_user.id
    case = await _db(F.get_case, engine, user_id, _need(case_id))
    if not case.legal_nature or wf.nature(case.legal_nature) is None:
        await _answer(update, t("fl_need_nature", lang), alert=True)
        return
    await _enter(update, context, case.id)
    await _answer(update)
    await send_summary(update, context, wf, case, lang)


async def send_summary(update: Update, context: ContextTypes.DEFAULT_TYPE, wf: Workflow, case: F.CaseView,
                       lang: str) -> None:
    """The summary: a short message (progress, what is missing, the next step), then the full summary as a
    PDF (to print and send) and as a DOCX (to edit)."""
    report = _stored_report(wf, case)
    lines = report_lines(wf, report, lang) if report is not None else []
    summary = build_summary(case, wf, lang, readiness_lines=[line.strip() for line in lines])
    labels = summary_labels(lang)
    title = _title(case, lang)
    summary.title = title
    pdf, docx = await asyncio.to_thread(_summary_files, summary, labels)
    await _send(update, context, summary_brief(summary, labels), html_mode=False)
    progress = summary.progress
    caption = t("fl_summary_caption", lang, title=title, done=progress.done, total=progress.total)
    chat_id = update.effective_chat.id
    await context.bot.send_document(chat_id, document=pdf, filename=pdf_filename(summary), caption=caption)
    await context.bot.send_document(
        chat_id, document=docx, filename=docx_filename(summary), caption=caption,
        reply_markup=InlineKeyboardMarkup([_back(case.id, lang)]),
    )
    await _db(F.mark_summary_sent, runtime(context).engine, case.operator_id, case.id)


def _summary_files(summary, labels) -> tuple[bytes, bytes]:
    """The PDF and the DOCX (in a worker thread: rendering takes a while)."""
    return summary_pdf(summary, labels), summary_docx(summary, labels)


async def _act_check(update, context, wf, lang, case_id, arg) -> None:
    engine, user_id = runtime(context).engine, update.effective_user.id
    case = await _db(F.set_step, engine, user_id, _need(case_id), "plan")
    if case.step != "plan":
        await _answer(update, t("fl_need_nature", lang), alert=True)
        return
    await _enter(update, context, case.id)
    await _answer(update)
    text, markup = plan_prompt(wf, case, lang)
    await _show(update, context, text, markup)


async def _act_registration(update, context, wf, lang, case_id, arg) -> None:
    case = await _db(F.get_case, runtime(context).engine, update.effective_user.id, _need(case_id))
    if not case.legal_nature or wf.nature(case.legal_nature) is None:
        raise F.FilingError("no_nature")
    await _enter(update, context, case.id)
    await _answer(update)
    markup = InlineKeyboardMarkup([[_button(t("fl_btn_nature", lang), A_CHANGE_NATURE, case.id)], _back(case.id, lang)])
    await _show(update, context, registration_text(wf, case.legal_nature, lang), markup)


async def _act_cases(update, context, wf, lang, case_id, arg) -> None:
    cases = await _db(F.list_cases, runtime(context).engine, update.effective_user.id)
    await _answer(update)
    lines, rows = [], []
    for case in cases:
        nature = wf.nature(case.legal_nature)
        progress = case.progress(wf)
        lines.append(_esc(t("fl_case_line", lang, title=_title(case, lang),
                            nature=nature.name.get(lang) if nature else t("fl_no_nature_yet", lang),
                            done=progress.done, total=progress.total)))
        rows.append([_button(f"{_title(case, lang)} {progress.done}/{progress.total}", A_CHECKLIST, case.id)])
    rows.append([_button(t("fl_btn_new", lang), A_NEW)])
    await _show(update, context, t("fl_cases", lang, lines="\n".join(lines)), InlineKeyboardMarkup(rows))


async def _act_new(update, context, wf, lang, case_id, arg) -> None:
    case = await _db(F.start_case, runtime(context).engine, update.effective_user.id)
    await _enter(update, context, case.id)
    await _answer(update, t("fl_new_case", lang))
    text, markup = nature_view(wf, case, lang)
    await _show(update, context, text, markup)


async def _act_rename(update, context, wf, lang, case_id, arg) -> None:
    case = await _db(F.set_step, runtime(context).engine, update.effective_user.id, _need(case_id), "title")
    await _enter(update, context, case.id)
    await _answer(update)
    await _show(update, context, _esc(t("fl_title_prompt", lang)), InlineKeyboardMarkup([_back(case.id, lang)]))


async def _act_city_menu(update, context, wf, lang, case_id, arg) -> None:
    case = await _db(F.get_case, runtime(context).engine, update.effective_user.id, _need(case_id))
    await _enter(update, context, case.id)
    await _answer(update)
    rows = []
    for city in wf.cities:
        try:
            rows.append([_button(("✓ " if city.city == case.city else "") + city.city, A_SET_CITY, case.id,
                                 city.city)])
        except CallbackError:  # a name too long for a button: the operator can still type it in the notes
            log.warning("City name of %s characters does not fit a button", len(city.city))
    rows.append([_button(t("fl_btn_no_city", lang), A_SET_CITY, case.id, None)])
    rows.append(_back(case.id, lang))
    await _show(update, context, _esc(t("fl_city_prompt", lang)), InlineKeyboardMarkup(rows))


async def _act_set_city(update, context, wf, lang, case_id, arg) -> None:
    case_id = _need(case_id)
    if arg is not None and wf.city(arg) is None:
        raise F.FilingError("unknown_city", arg)
    city = "" if arg is None else wf.city(arg).city
    case = await _db(F.set_city, runtime(context).engine, update.effective_user.id, case_id, city)
    await _enter(update, context, case.id)
    await _answer(update, t("fl_city_set", lang, city=city) if city else t("fl_city_cleared", lang))
    if not case.legal_nature:
        text, markup = nature_view(wf, case, lang)
        await _show(update, context, text, markup)
        return
    await _send_checklist(update, context, wf, case, lang, edit=True)


_ACTIONS = {
    A_GO: _act_go,
    A_NATURE: _act_nature,
    A_CHANGE_NATURE: _act_change_nature,
    A_CHECKLIST: _act_checklist,
    A_ITEM: _act_item,
    A_WHAT: _act_what,
    A_READY: _act_ready,
    A_NOT_APPLICABLE: _act_not_applicable,
    A_CLEAR: _act_clear,
    A_SUMMARY: _act_summary,
    A_CHECK: _act_check,
    A_REGISTRATION: _act_registration,
    A_CASES: _act_cases,
    A_NEW: _act_new,
    A_RENAME: _act_rename,
    A_CITY_MENU: _act_city_menu,
    A_SET_CITY: _act_set_city,
}
assert set(_ACTIONS) == set(CODEC.actions), "every declared button has a handler"


# --- Typed text during the flow -------------------------------------------------------------------------------


async def _flow_case(context: ContextTypes.DEFAULT_TYPE, state: FlowState, user_id: int) -> F.CaseView | None:
    """The case the operator is working on: the one in the flow state when still open, else the latest."""
    engine = runtime(context).engine
    if state.get("case"):
        try:
            return await _db(F.get_case, engine, user_id, state["case"])
        except F.CaseNotFound:
            pass
    return await _db(F.current_case, engine, user_id)


def _reminder_markup(wf: Workflow, case: F.CaseView, lang: str) -> InlineKeyboardMarkup:
    row = _back(case.id, lang)
    item = case.item(wf, case.current_item) if case.current_item else None
    if item is not None:
        row.append(_button(t("fl_btn_item", lang, mark=MARKS[item.status], name=item.material.name.get(lang)),
                           A_ITEM, case.id, item.material.id))
    return InlineKeyboardMarkup([row])


async def _remind(update: Update, context: ContextTypes.DEFAULT_TYPE, wf: Workflow, case: F.CaseView,
                  lang: str) -> None:
    if case.step == "plan":
        await _send(update, context, t("fl_reminder_plan", lang), InlineKeyboardMarkup([_back(case.id, lang)]))
        return
    progress = case.progress(wf)
    item = case.item(wf, case.current_item) if case.current_item else None
    item_text = t("fl_reminder_item", lang, name=item.material.name.get(lang)) if item is not None else ""
    text = t("fl_reminder", lang, title=_title(case, lang), done=progress.done, total=progress.total, item=item_text)
    await _send(update, context, _esc(text), _reminder_markup(wf, case, lang))


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Text while in the flow: the class plan or name when asked for, otherwise a policy question + reminder."""
    lang = user_language(update, context)
    user_id = update.effective_user.id
    engine = runtime(context).engine
    text = update.effective_message.text or ""
    try:
        wf = await _workflow(context)
    except WorkflowError:
        log.exception("The filing workflow data is invalid")
        await policy.ask(update, context)
        return
    state = await _state(update, context)
    restored = bool(state.get("restored"))
    case = await _flow_case(context, state, user_id)
    if case is None:
        state["case"] = None
        await _save(state)
        await policy.ask(update, context)
        return
    if case.step == "title" and text.strip():
        await _enter(update, context, case.id)
        case = await _db(F.set_title, engine, user_id, case.id, text)
        await _send_checklist(update, context, wf, case, lang,
                              prefix=_esc(t("fl_title_set", lang, title=case.title)))
        return
    if case.step == "plan" and re.search(r"[0-9０-９一二两三四五六七八九十]", text):
        await _enter(update, context, case.id)
        await _handle_plan(update, context, wf, case, lang, text)
        return
    await policy.ask(update, context)
    if not restored or _ASKS_ABOUT_FILING.search(text):
        await _enter(update, context, case.id)
        await _remind(update, context, wf, case, lang)


async def _handle_plan(update: Update, context: ContextTypes.DEFAULT_TYPE, wf: Workflow, case: F.CaseView,
                       lang: str, text: str) -> None:
    family = wf.data.readiness.family
    parsed = parse_plan(text, wf, family_default=family is not None and case.legal_nature == family.id)
    types = _class_types_text(wf, lang)
    problems = [t(f"fl_plan_problem_{p.reason}", lang, text=p.text[:40], types=types) for p in parsed.problems]
    if not parsed.classes:
        body = "\n".join([t("fl_plan_unreadable", lang), *map(_esc, problems)])
        await _send(update, context, body, InlineKeyboardMarkup([_back(case.id, lang)]))
        return
    report = check_plan(parsed.classes, wf)
    case = await _db(F.save_class_plan, runtime(context).engine, case.operator_id, case.id,
                     [c.as_dict() for c in parsed.classes])
    lines = report_lines(wf, report, lang) + problems
    markup = InlineKeyboardMarkup([[_button(t("fl_btn_recheck", lang), A_CHECK, case.id)], _back(case.id, lang)])
    await _send(update, context, "\n".join(_esc(line) for line in lines), markup)


# --- Uploads --------------------------------------------------------------------------------------------------


async def on_upload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A file or photo for the current checklist item: checked (type, size, content), then recorded by its
    Telegram file id with name, size and sha256. A refused file changes nothing."""
    message = update.effective_message
    lang = user_language(update, context)
    user_id = update.effective_user.id
    engine = runtime(context).engine
    try:
        wf = await _workflow(context)
    except WorkflowError:
        log.exception("The filing workflow data is invalid")
        await _send(update, context, t("fl_data_error", lang))
        return
    case = await _flow_case(context, await _state(update, context), user_id)
    if case is None or not case.legal_nature or wf.nature(case.legal_nature) is None:
        await _send(update, context, _esc(t("fl_need_nature", lang)),
                    InlineKeyboardMarkup([[_button(t("fl_btn_start", lang), A_GO)]]))
        return
    await _enter(update, context, case.id)
    item = case.item(wf, case.current_item) if case.current_item else None
    if item is None:
        rows = [[_button(t("fl_btn_item", lang, mark=MARKS[i.status], name=i.material.name.get(lang)),
                         A_ITEM, case.id, i.material.id)] for i in case.items(wf)]
        await _send(update, context, _esc(t("fl_upload_pick_item", lang)), InlineKeyboardMarkup(rows))
        return
    material = item.material
    if message.document is not None:
        doc = message.document
        file_id, unique_id = doc.file_id, doc.file_unique_id
        name, mime, size = doc.file_name or "", doc.mime_type or "", doc.file_size
    else:
        photo = message.photo[-1]
        file_id, unique_id = photo.file_id, photo.file_unique_id
        name, mime, size = f"photo_{photo.file_unique_id}.jpg", "image/jpeg", photo.file_size
    item_name = material.name.get(lang)
    verdict = F.check_upload(wf, material, file_name=name, mime_type=mime, file_size=size)
    if verdict.problem == "wrong_type":
        got = name.rsplit(".", 1)[1].upper() if "." in name else (mime or t("fl_unknown_type", lang))
        types = join_names([ft.label for ft in verdict.accepted], lang)
        await _send(update, context, _esc(t("fl_upload_wrong_type", lang, name=item_name, types=types, got=got)),
                    InlineKeyboardMarkup([_back(case.id, lang)]))
        return
    if verdict.problem == "too_large":
        await _send(update, context, _esc(t("fl_upload_too_large", lang, size=_size(size or 0), name=item_name,
                                             max_mb=_mb(verdict.max_bytes))),
                    InlineKeyboardMarkup([_back(case.id, lang)]))
        return
    if verdict.problem == "empty":
        await _send(update, context, _esc(t("fl_upload_empty", lang)))
        return
    try:
        tg_file = await context.bot.get_file(file_id)
        data = bytes(await tg_file.download_as_bytearray())
    except TelegramError as exc:
        log.info("Could not download upload %s: %s", file_id, exc)
        await _send(update, context, _esc(t("fl_upload_unreadable", lang)))
        return
    if len(data) > verdict.max_bytes:
        await _send(update, context, _esc(t("fl_upload_too_large", lang, size=_size(len(data)), name=item_name,
                                             max_mb=_mb(verdict.max_bytes))))
        return
    if not F.check_content(verdict.file_type, data):
        await _send(update, context, _esc(t("fl_upload_corrupt", lang, type=verdict.file_type.label)),
                    InlineKeyboardMarkup([_back(case.id, lang)]))
        return
    upload = F.UploadedFile(file_id=file_id, file_unique_id=unique_id, file_name=name, mime_type=mime,
                            file_size=len(data), sha256=F.sha256_hex(data))
    outcome = await _db(F.record_upload, engine, user_id, case.id, material.id, upload, wf)
    progress = outcome.case.progress(wf)
    key = "fl_upload_ok" if outcome.added else "fl_upload_dup"
    text = t(key, lang, file=_esc(name), size=_size(len(data)), name=_esc(item_name), done=progress.done,
             total=progress.total)
    if progress.complete:
        text += "\n" + t("fl_checklist_done", lang)
    rows = [_next_and_back(wf, outcome.case, material.id, lang)]
    if progress.complete:
        rows.insert(0, [_button(t("fl_btn_summary", lang), A_SUMMARY, case.id)])
    await _send(update, context, text, InlineKeyboardMarkup(rows))


# --- Registration ---------------------------------------------------------------------------------------------


def register(application: Application) -> None:
    """Register this flow's handlers (before the catch-all handlers)."""
    private = filters.ChatType.PRIVATE
    in_flow_text = _InFlow(application, ACTIVE_SECONDS, "filing_flow_text")
    in_flow_files = _InFlow(application, None, "filing_flow_files")
    application.add_handler(
        MessageHandler(private & (filters.TEXT | filters.Document.ALL | filters.PHOTO) & ~filters.COMMAND,
                       note_flow),
        group=FLOW_GROUP,
    )
    application.add_handler(MessageHandler(filters.COMMAND, leave_flow_on_command), group=-1)
    application.add_handler(CommandHandler("filing", filing_command))
    application.add_handler(CallbackQueryHandler(on_button, pattern=CODEC.pattern))
    application.add_handler(
        MessageHandler(private & (filters.Document.ALL | filters.PHOTO) & in_flow_files, on_upload)
    )
    application.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND & in_flow_text, on_text))
