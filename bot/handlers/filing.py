"""Operators' registration and filing (登记 → 备案) walk-through: /filing, its buttons, uploads and typed input.

Thin layer: the workflow facts come from `db.filing.workflow` (knowledge/filing.yaml), the case and checklist
state from `db.filing.cases`, the class check from `db.filing.readiness`, the summary from `db.filing.summary`.
The flow membership and shared helpers live in `filing_base`, the button actions in `filing_actions`, the
messages and keyboards in `filing_views`.

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
checklist rules live in `db.filing.cases`), so a `StateConflict` here is logged, not shown.
"""

from __future__ import annotations

import logging
import re

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.callbacks import CallbackError
from bot.context import BotContext
from bot.handlers import policy
from bot.handlers.common import require_private_chat
from bot.handlers.filing_actions import _ACTIONS
from bot.handlers.filing_base import (  # noqa: F401  (reached through `filing` by staff and the tests)
    _ASKS_ABOUT_FILING,
    _SEEN_KEEP,
    ACTIVE_SECONDS,
    FLOW,
    FLOW_GROUP,
    SEEN_KEY,
    _answer,
    _db,
    _enter,
    _InFlow,
    _keep,
    _reshow_case,
    _resume,
    _save,
    _seen,
    _send,
    _send_checklist,
    _state,
    _workflow,
    _workflow_or_say,
    in_flow,
    leave_flow_on_command,
    note_flow,
)

# The views are re-exported (`x as x`): tests import them from here.
from bot.handlers.filing_views import (
    A_CHECK,
    A_GO,
    A_ITEM,
    A_SUMMARY,
    CODEC,
    MARKS,
    _back,
    _button,
    _class_types_text,
    _esc,
    _mb,
    _next_and_back,
    _size,
    _title,
    report_lines,
)
from bot.handlers.filing_views import checklist_view as checklist_view
from bot.handlers.filing_views import item_view as item_view
from bot.handlers.filing_views import nature_view as nature_view
from bot.handlers.filing_views import plan_prompt as plan_prompt
from bot.handlers.filing_views import registration_text as registration_text
from bot.handlers.filing_views import what_text as what_text
from bot.state import FlowState
from bot.texts import join_names, t
from db.filing import cases as F
from db.filing.readiness import check_plan, parse_plan
from db.filing.workflow import Workflow, WorkflowError

log = logging.getLogger(__name__)

#: The handler group of `note_flow`: before the staff flow's early group (-20), which also asks whether a
#: document belongs to the filing flow.
#: A question about filing itself: worth a reminder of where the operator's own case stands.
#: Commands that do not take the operator out of the filing flow.






# --- /filing and resuming --------------------------------------------------------------------------------------


async def filing_command(update: Update, context: BotContext) -> None:
    """Start, or resume where the operator left off (derived from the database). Private chats only."""
    if update.effective_user is None or not await require_private_chat(update, context):
        return
    await _resume(update, context)


# --- Buttons --------------------------------------------------------------------------------------------------


async def on_button(update: Update, context: BotContext) -> None:
    """Every `fl:` button. Forged, stale or foreign buttons get a polite answer, never an error; nothing is
    stored for them (the data is decoded by `CODEC` before anything else happens)."""
    query = update.callback_query
    lang = context.language
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




# --- Typed text during the flow -------------------------------------------------------------------------------


async def _flow_case(context: BotContext, state: FlowState, user_id: int) -> F.CaseView | None:
    """The case the operator is working on: the one in the flow state when still open, else the latest."""
    engine = context.runtime.engine
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


async def _remind(update: Update, context: BotContext, wf: Workflow, case: F.CaseView,
                  lang: str) -> None:
    if case.step == "plan":
        await _send(update, context, t("fl_reminder_plan", lang), InlineKeyboardMarkup([_back(case.id, lang)]))
        return
    progress = case.progress(wf)
    item = case.item(wf, case.current_item) if case.current_item else None
    item_text = t("fl_reminder_item", lang, name=item.material.name.get(lang)) if item is not None else ""
    text = t("fl_reminder", lang, title=_title(case, lang), done=progress.done, total=progress.total, item=item_text)
    await _send(update, context, _esc(text), _reminder_markup(wf, case, lang))


async def on_text(update: Update, context: BotContext) -> None:
    """Text while in the flow: the class plan or name when asked for, otherwise a policy question + reminder."""
    lang = context.language
    user_id = update.effective_user.id
    engine = context.runtime.engine
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


async def _handle_plan(update: Update, context: BotContext, wf: Workflow, case: F.CaseView,
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
    case = await _db(F.save_class_plan, context.runtime.engine, case.operator_id, case.id,
                     [c.as_dict() for c in parsed.classes])
    lines = report_lines(wf, report, lang) + problems
    markup = InlineKeyboardMarkup([[_button(t("fl_btn_recheck", lang), A_CHECK, case.id)], _back(case.id, lang)])
    await _send(update, context, "\n".join(_esc(line) for line in lines), markup)


# --- Uploads --------------------------------------------------------------------------------------------------


def _attachment(message: Message) -> tuple[str, str, str, str, int | None]:
    """(file id, unique id, name, MIME type, size) of the document, or of the largest size of the photo."""
    if message.document is not None:
        doc = message.document
        return doc.file_id, doc.file_unique_id, doc.file_name or "", doc.mime_type or "", doc.file_size
    photo = message.photo[-1]
    return photo.file_id, photo.file_unique_id, f"photo_{photo.file_unique_id}.jpg", "image/jpeg", photo.file_size


async def on_upload(update: Update, context: BotContext) -> None:
    """A file or photo for the current checklist item: checked (type, size, content), then recorded by its
    Telegram file id with name, size and sha256. A refused file changes nothing."""
    lang = context.language
    user_id = update.effective_user.id
    engine = context.runtime.engine
    wf = await _workflow_or_say(update, context, lang)
    if wf is None:
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
    file_id, unique_id, name, mime, size = _attachment(update.effective_message)
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
