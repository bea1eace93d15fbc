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
update only (`bot.state.keep_for_update`: a per-update cache in user_data, never the source of truth); the
filters and `in_flow` read that, so no filter touches the database on the event loop. Other flows ask
`bot.state.in_flow(context.user_data, update, "filing")` (or `active_flows`) without importing this module.

Each handler does one unit of work per step (`context.db`), e.g. a change and the operator's case count for
the checklist together (`filing_base.counted`). Membership is
last-writer-wins: two workers recording the same operator's entry at the same moment is harmless (the case and
checklist rules live in `db.filing.cases`), so a `StateConflict` here is logged, not shown.
"""

from __future__ import annotations

import logging
import re

from sqlmodel import Session
from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.context import BotContext
from bot.handlers import policy
from bot.handlers.common import answer_quietly, decode_button, require_private_chat
from bot.handlers.filing_actions import _ACTIONS, Tap
from bot.handlers.filing_base import (
    _ASKS_ABOUT_FILING,
    ACTIVE_SECONDS,
    FLOW,
    FLOW_GROUP,
    Turn,
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
    counted,
    in_flow,
    leave_flow_on_command,
    note_flow,
)
from bot.handlers.filing_views import (
    CODEC,
    UploadRefusal,
    _esc,
    need_nature_view,
    pick_item_view,
    plan_problem_lines,
    plan_report_view,
    plan_unreadable_view,
    reminder_view,
    upload_done_view,
    upload_refused_view,
)
from bot.texts import join_names, t
from db.filing import cases as F
from db.filing.readiness import check_plan, parse_plan
from db.filing.workflow import Material, Workflow, WorkflowError

log = logging.getLogger(__name__)

# Reached through this module by the tests (the flow's public face).
__all__ = ["ACTIVE_SECONDS", "FLOW", "FLOW_GROUP", "_InFlow", "_keep", "_seen", "in_flow",
           "leave_flow_on_command", "note_flow", "register"]

_PLAN_DIGITS = re.compile(r"[0-9０-９一二两三四五六七八九十]")
_FILING_ERRORS = {"too_many_cases": "fl_too_many_cases"}


# --- /filing and buttons ----------------------------------------------------------------------------------------


async def filing_command(update: Update, context: BotContext) -> None:
    """Start, or resume where the operator left off (derived from the database). Private chats only."""
    if update.effective_user is None or not await require_private_chat(update, context):
        return
    await _resume(update, context)


async def on_button(update: Update, context: BotContext) -> None:
    """Every `fl:` button. Forged, stale or foreign buttons get a polite answer, never an error; nothing is
    stored for them (the data is decoded by `CODEC` before anything else happens)."""
    lang = context.language
    decoded = await decode_button(update, context, CODEC)
    if decoded is None:
        return
    args = decoded.args
    case_id = args[0] if args else None
    try:
        wf = await _workflow(context)
        await _ACTIONS[decoded.action](Tap(update, context, wf, lang, case_id, args[1] if len(args) > 1 else None))
    except WorkflowError:
        log.exception("The filing workflow data is invalid")
        await answer_quietly(update, t("fl_data_error", lang), alert=True)
    except F.CaseNotFound:
        await answer_quietly(update, t("fl_case_gone", lang), alert=True)
    except F.FilingError as exc:
        await answer_quietly(update, t(_FILING_ERRORS.get(exc.code, "fl_stale"), lang), alert=True)
        if exc.code not in _FILING_ERRORS and case_id is not None:
            # an item or nature the data no longer has: show the current checklist
            await _reshow_case(update, context, lang, case_id)


# --- Typed text during the flow -------------------------------------------------------------------------------


def _flow_case(user_id: int, case_id: int | None, *, session: Session) -> F.CaseView | None:
    """The case the operator is working on: the one in the flow state when still open, else the latest."""
    if case_id:
        try:
            return F.get_case(user_id, case_id, session=session)
        except F.CaseNotFound:
            pass
    return F.current_case(user_id, session=session)


async def on_text(update: Update, context: BotContext) -> None:
    """Text while in the flow: the class plan or name when asked for, otherwise a policy question + reminder."""
    lang = context.language
    text = update.effective_message.text or ""
    try:
        wf = await _workflow(context)
    except WorkflowError:
        log.exception("The filing workflow data is invalid")
        await policy.ask(update, context)
        return
    turn = Turn(update, context, wf, lang)
    state = await _state(update, context)
    restored = bool(state.get("restored"))
    case = await context.db(_flow_case, turn.user_id, state.get("case"))
    if case is None:
        state["case"] = None
        await _save(state)
        await policy.ask(update, context)
        return
    if case.step == "title" and text.strip():
        await _enter(update, context, case.id)
        screen = await context.db(counted(F.set_title), turn.user_id, case.id, text)
        await _send_checklist(turn, screen, prefix=_esc(t("fl_title_set", lang, title=screen.case.title)))
        return
    if case.step == "plan" and _PLAN_DIGITS.search(text):
        await _enter(update, context, case.id)
        await _handle_plan(turn, case, text)
        return
    await policy.ask(update, context)
    if not restored or _ASKS_ABOUT_FILING.search(text):
        await _enter(update, context, case.id)
        await _send(update, context, *reminder_view(wf, case, lang))


async def _handle_plan(turn: Turn, case: F.CaseView, text: str) -> None:
    wf, lang = turn.wf, turn.lang
    family = wf.data.readiness.family
    parsed = parse_plan(text, wf, family_default=family is not None and case.legal_nature == family.id)
    problems = plan_problem_lines(wf, parsed.problems, lang)
    if not parsed.classes:
        await _send(turn.update, turn.context, *plan_unreadable_view(case, problems, lang))
        return
    report = check_plan(parsed.classes, wf)
    case = await turn.context.db(F.save_class_plan, case.operator_id, case.id, [c.as_dict() for c in parsed.classes])
    await _send(turn.update, turn.context, *plan_report_view(wf, case, report, problems, lang))


# --- Uploads --------------------------------------------------------------------------------------------------


def _attachment(message: Message) -> tuple[str, str, str, str, int | None]:
    """(file id, unique id, name, MIME type, size) of the document, or of the largest size of the photo."""
    if message.document is not None:
        doc = message.document
        return doc.file_id, doc.file_unique_id, doc.file_name or "", doc.mime_type or "", doc.file_size
    photo = message.photo[-1]
    return photo.file_id, photo.file_unique_id, f"photo_{photo.file_unique_id}.jpg", "image/jpeg", photo.file_size


def _precheck(wf: Workflow, material: Material, attachment: tuple, lang: str) -> tuple[F.UploadCheck, UploadRefusal | None]:
    """The verdict on the file by its name, MIME type and size (before downloading it), and the refusal, if any."""
    _, _, name, mime, size = attachment
    verdict = F.check_upload(wf, material, file_name=name, mime_type=mime, file_size=size)
    refusal = None
    if verdict.problem is not None:
        got = name.rsplit(".", 1)[1].upper() if "." in name else (mime or t("fl_unknown_type", lang))
        refusal = UploadRefusal(verdict.problem, material.name.get(lang), verdict.max_bytes, size or 0,
                                join_names([ft.label for ft in verdict.accepted], lang), got)
    return verdict, refusal


async def _download(turn: Turn, file_id: str) -> bytes | None:
    try:
        tg_file = await turn.context.bot.get_file(file_id)
        return bytes(await tg_file.download_as_bytearray())
    except TelegramError as exc:
        log.info("Could not download upload %s: %s", file_id, exc)
        return None


def _content_refusal(verdict: F.UploadCheck, material: Material, data: bytes | None,
                     lang: str) -> UploadRefusal | None:
    """Why the downloaded bytes are refused (unreadable, over the limit, not really that type), or None."""
    if data is None:
        return UploadRefusal("unreadable")
    if len(data) > verdict.max_bytes:
        return UploadRefusal("too_large", material.name.get(lang), verdict.max_bytes, len(data), with_back=False)
    if not F.check_content(verdict.file_type, data):
        return UploadRefusal("corrupt", got=verdict.file_type.label)
    return None


async def on_upload(update: Update, context: BotContext) -> None:
    """A file or photo for the current checklist item: checked (type, size, content), then recorded by its
    Telegram file id with name, size and sha256. A refused file changes nothing."""
    lang = context.language
    wf = await _workflow_or_say(update, context, lang)
    if wf is None:
        return
    turn = Turn(update, context, wf, lang)
    state = await _state(update, context)
    case = await context.db(_flow_case, turn.user_id, state.get("case"))
    if case is None or not case.legal_nature or wf.nature(case.legal_nature) is None:
        await _send(update, context, *need_nature_view(lang))
        return
    await _enter(update, context, case.id)
    item = case.item(wf, case.current_item) if case.current_item else None
    if item is None:
        await _send(update, context, *pick_item_view(wf, case, lang))
        return
    await _receive(turn, case, item.material)


async def _receive(turn: Turn, case: F.CaseView, material: Material) -> None:
    """Check, download, check again and record the file for `material`."""
    attachment = _attachment(turn.update.effective_message)
    verdict, refusal = _precheck(turn.wf, material, attachment, turn.lang)
    data = None
    if refusal is None:
        data = await _download(turn, attachment[0])
        refusal = _content_refusal(verdict, material, data, turn.lang)
    if refusal is not None:
        await _send(turn.update, turn.context, *upload_refused_view(case, refusal, turn.lang))
        return
    file_id, unique_id, name, mime, _ = attachment
    sent = F.UploadedFile(file_id=file_id, file_unique_id=unique_id, file_name=name, mime_type=mime,
                          file_size=len(data), sha256=F.sha256_hex(data))
    item = F.ItemRef(turn.user_id, case.id, material.id)
    outcome = await turn.context.db(F.record_upload, item, sent, turn.wf)
    await _send(turn.update, turn.context, *upload_done_view(turn.wf, outcome, material, sent, turn.lang))


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
