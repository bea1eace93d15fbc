"""The filing flow's buttons: one function per action (`_ACTIONS`, keyed by the `filing_views` action codes),
called by `bot.handlers.filing.on_button` with the decoded case id and argument."""

from __future__ import annotations

import asyncio
import logging

from telegram import InlineKeyboardMarkup, Update

from bot.callbacks import CallbackError
from bot.context import BotContext
from bot.handlers.filing_base import _answer, _db, _enter, _resume, _send, _send_checklist, _show
from bot.handlers.filing_views import (
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
    _back,
    _button,
    _esc,
    _stored_report,
    _title,
    item_view,
    nature_view,
    plan_prompt,
    registration_text,
    report_lines,
    what_text,
)
from bot.texts import t
from bot.texts_filing import summary_labels
from db.filing import cases as F
from db.filing.pdf import pdf_filename, summary_pdf
from db.filing.summary import build_summary, docx_filename, summary_brief, summary_docx
from db.filing.workflow import Workflow

log = logging.getLogger(__name__)


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
    engine, user_id = context.runtime.engine, update.effective_user.id
    case = await _db(F.choose_nature, engine, user_id, case_id, arg, wf)
    await _enter(update, context, case.id)
    await _answer(update)
    markup = InlineKeyboardMarkup([[_button(t("fl_btn_nature", lang), A_CHANGE_NATURE, case.id)]])
    await _show(update, context, registration_text(wf, case.legal_nature, lang), markup)
    await _send_checklist(update, context, wf, case, lang)


async def _act_change_nature(update, context, wf, lang, case_id, arg) -> None:
    case = await _db(F.get_case, context.runtime.engine, update.effective_user.id, _need(case_id))
    await _enter(update, context, case.id)
    await _answer(update)
    text, markup = nature_view(wf, case, lang)
    await _show(update, context, text, markup)


async def _act_checklist(update, context, wf, lang, case_id, arg) -> None:
    engine, user_id = context.runtime.engine, update.effective_user.id
    case = await _db(F.set_step, engine, user_id, _need(case_id), "checklist")
    await _enter(update, context, case.id)
    await _answer(update)
    if not case.legal_nature or wf.nature(case.legal_nature) is None:
        text, markup = nature_view(wf, case, lang)
        await _show(update, context, text, markup)
        return
    await _send_checklist(update, context, wf, case, lang, edit=True)


async def _act_item(update, context, wf, lang, case_id, arg) -> None:
    case = await _db(F.open_item, context.runtime.engine, update.effective_user.id, _need(case_id, arg, with_arg=True),
                     arg, wf)
    await _enter(update, context, case.id)
    await _answer(update)
    text, markup = item_view(wf, case, case.item(wf, arg), lang)
    await _show(update, context, text, markup)


async def _act_what(update, context, wf, lang, case_id, arg) -> None:
    case = await _db(F.get_case, context.runtime.engine, update.effective_user.id, _need(case_id, arg, with_arg=True))
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
    engine, user_id = context.runtime.engine, update.effective_user.id
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
    engine, user_id = context.runtime.engine, update.effective_user.id
    case = await _db(F.clear_item, engine, user_id, _need(case_id, arg, with_arg=True), arg)
    item = case.item(wf, arg)
    if item is None:
        raise F.FilingError("unknown_item", arg)
    await _enter(update, context, case.id)
    await _answer(update, t("fl_cleared", lang, name=item.material.name.get(lang)))
    text, markup = item_view(wf, case, item, lang)
    await _show(update, context, text, markup)


async def _act_summary(update, context, wf, lang, case_id, arg) -> None:
    engine, user_id = context.runtime.engine, update.effective_user.id
    case = await _db(F.get_case, engine, user_id, _need(case_id))
    if not case.legal_nature or wf.nature(case.legal_nature) is None:
        await _answer(update, t("fl_need_nature", lang), alert=True)
        return
    await _enter(update, context, case.id)
    await _answer(update)
    await send_summary(update, context, wf, case, lang)


async def _act_check(update, context, wf, lang, case_id, arg) -> None:
    engine, user_id = context.runtime.engine, update.effective_user.id
    case = await _db(F.set_step, engine, user_id, _need(case_id), "plan")
    if case.step != "plan":
        await _answer(update, t("fl_need_nature", lang), alert=True)
        return
    await _enter(update, context, case.id)
    await _answer(update)
    text, markup = plan_prompt(wf, case, lang)
    await _show(update, context, text, markup)


async def _act_registration(update, context, wf, lang, case_id, arg) -> None:
    case = await _db(F.get_case, context.runtime.engine, update.effective_user.id, _need(case_id))
    if not case.legal_nature or wf.nature(case.legal_nature) is None:
        raise F.FilingError("no_nature")
    await _enter(update, context, case.id)
    await _answer(update)
    markup = InlineKeyboardMarkup([[_button(t("fl_btn_nature", lang), A_CHANGE_NATURE, case.id)], _back(case.id, lang)])
    await _show(update, context, registration_text(wf, case.legal_nature, lang), markup)


async def _act_cases(update, context, wf, lang, case_id, arg) -> None:
    cases = await _db(F.list_cases, context.runtime.engine, update.effective_user.id)
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
    case = await _db(F.start_case, context.runtime.engine, update.effective_user.id)
    await _enter(update, context, case.id)
    await _answer(update, t("fl_new_case", lang))
    text, markup = nature_view(wf, case, lang)
    await _show(update, context, text, markup)


async def _act_rename(update, context, wf, lang, case_id, arg) -> None:
    case = await _db(F.set_step, context.runtime.engine, update.effective_user.id, _need(case_id), "title")
    await _enter(update, context, case.id)
    await _answer(update)
    await _show(update, context, _esc(t("fl_title_prompt", lang)), InlineKeyboardMarkup([_back(case.id, lang)]))


async def _act_city_menu(update, context, wf, lang, case_id, arg) -> None:
    case = await _db(F.get_case, context.runtime.engine, update.effective_user.id, _need(case_id))
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
    case = await _db(F.set_city, context.runtime.engine, update.effective_user.id, case_id, city)
    await _enter(update, context, case.id)
    await _answer(update, t("fl_city_set", lang, city=city) if city else t("fl_city_cleared", lang))
    if not case.legal_nature:
        text, markup = nature_view(wf, case, lang)
        await _show(update, context, text, markup)
        return
    await _send_checklist(update, context, wf, case, lang, edit=True)


async def send_summary(update: Update, context: BotContext, wf: Workflow, case: F.CaseView,
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
    await _db(F.mark_summary_sent, context.runtime.engine, case.operator_id, case.id)


def _summary_files(summary, labels) -> tuple[bytes, bytes]:
    """The PDF and the DOCX (in a worker thread: rendering takes a while)."""
    return summary_pdf(summary, labels), summary_docx(summary, labels)


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
