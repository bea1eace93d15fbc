"""The filing flow's buttons: one function per action (`_ACTIONS`, keyed by the `filing_views` action codes),
called by `bot.handlers.filing.on_button` with the decoded tap (`Tap`). Each action does one unit of work
(`context.db`), stores the flow membership, then shows a view from `filing_views`."""

from __future__ import annotations

import asyncio
import html
import logging
from dataclasses import dataclass

from telegram import InlineKeyboardMarkup

from bot.handlers.common import answer_quietly
from bot.handlers.filing_base import (
    Turn,
    _enter,
    _resume,
    _send,
    _send_case,
    _send_checklist,
    _show,
    counted,
)
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
    _esc,
    _stored_report,
    _title,
    cases_view,
    city_menu,
    item_view,
    nature_view,
    plan_prompt,
    registration_view,
    report_lines,
    summary_labels,
    what_view,
)
from bot.texts import t
from db.filing import cases as F
from db.filing.pdf import pdf_filename, summary_pdf
from db.filing.summary import build_summary, docx_filename, summary_brief, summary_docx

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tap(Turn):
    """One tap on a `fl:` button: the turn plus the decoded case id and argument (item, nature or city)."""

    case_id: int | None = None
    arg: str | None = None

    def need(self, *, with_arg: bool = False) -> int:
        """The case id (the codec guarantees it for actions that carry one; this keeps the type checker honest)."""
        if self.case_id is None or (with_arg and self.arg is None):
            raise F.FilingError("incomplete")
        return self.case_id

    def item(self) -> F.ItemRef:
        """The checklist item the button is about (the argument), in the operator's case."""
        return F.ItemRef(self.user_id, self.need(with_arg=True), self.arg)


async def _act_go(tap: Tap) -> None:
    await answer_quietly(tap.update)
    await _resume(tap.update, tap.context)


async def _entered(tap: Tap, case: F.CaseView, note: str | None = None) -> None:
    """The operator works on `case` now (stored), and the tap is answered (with `note`, if any)."""
    await _enter(tap.update, tap.context, case.id)
    await answer_quietly(tap.update, note)


async def _act_nature(tap: Tap) -> None:
    screen = await tap.context.db(counted(F.choose_nature), tap.user_id, tap.need(with_arg=True), tap.arg, tap.wf)
    await _entered(tap, screen.case)
    await _show(tap.update, tap.context, *registration_view(tap.wf, screen.case, tap.lang, with_back=False))
    await _send_checklist(tap, screen)


async def _act_change_nature(tap: Tap) -> None:
    case = await tap.context.db(F.get_case, tap.user_id, tap.need())
    await _entered(tap, case)
    await _show(tap.update, tap.context, *nature_view(tap.wf, case, tap.lang))


async def _act_checklist(tap: Tap) -> None:
    screen = await tap.context.db(counted(F.set_step), tap.user_id, tap.need(), "checklist")
    await _entered(tap, screen.case)
    await _send_case(tap, screen, edit=True)


async def _act_item(tap: Tap) -> None:
    case = await tap.context.db(F.open_item, tap.item(), tap.wf)
    await _entered(tap, case)
    await _show(tap.update, tap.context, *item_view(tap.wf, case, case.item(tap.wf, tap.arg), tap.lang))


async def _act_what(tap: Tap) -> None:
    case = await tap.context.db(F.get_case, tap.user_id, tap.need(with_arg=True))
    item = case.item(tap.wf, tap.arg)
    if item is None:
        raise F.FilingError("unknown_item", tap.arg)
    await _entered(tap, case)
    await _show(tap.update, tap.context, *what_view(tap.wf, case, item.material, tap.lang))


async def _act_mark(tap: Tap, status: str) -> None:
    try:
        screen = await tap.context.db(counted(F.mark_item), tap.item(), status, tap.wf)
    except F.FilingError as exc:
        if exc.code != "not_allowed":
            raise
        material = tap.wf.material(tap.arg)
        key = "fl_not_allowed_na" if status == F.NOT_APPLICABLE else "fl_not_allowed_ready"
        await answer_quietly(tap.update, t(key, tap.lang, name=material.name.get(tap.lang) if material else tap.arg),
                      alert=True)
        return
    material = tap.wf.material(tap.arg, screen.case.city)
    key = "fl_marked_na" if status == F.NOT_APPLICABLE else "fl_marked_ready"
    await _entered(tap, screen.case, t(key, tap.lang, name=material.name.get(tap.lang)))
    await _send_checklist(tap, screen, edit=True)


async def _act_ready(tap: Tap) -> None:
    await _act_mark(tap, F.READY)


async def _act_not_applicable(tap: Tap) -> None:
    await _act_mark(tap, F.NOT_APPLICABLE)


async def _act_clear(tap: Tap) -> None:
    case = await tap.context.db(F.clear_item, tap.item())
    item = case.item(tap.wf, tap.arg)
    if item is None:
        raise F.FilingError("unknown_item", tap.arg)
    await _entered(tap, case, t("fl_cleared", tap.lang, name=item.material.name.get(tap.lang)))
    await _show(tap.update, tap.context, *item_view(tap.wf, case, item, tap.lang))


async def _act_summary(tap: Tap) -> None:
    case = await tap.context.db(F.get_case, tap.user_id, tap.need())
    if not case.legal_nature or tap.wf.nature(case.legal_nature) is None:
        await answer_quietly(tap.update, t("fl_need_nature", tap.lang), alert=True)
        return
    await _entered(tap, case)
    await send_summary(tap, case)


async def _act_check(tap: Tap) -> None:
    case = await tap.context.db(F.set_step, tap.user_id, tap.need(), "plan")
    if case.step != "plan":
        await answer_quietly(tap.update, t("fl_need_nature", tap.lang), alert=True)
        return
    await _entered(tap, case)
    await _show(tap.update, tap.context, *plan_prompt(tap.wf, case, tap.lang))


async def _act_registration(tap: Tap) -> None:
    case = await tap.context.db(F.get_case, tap.user_id, tap.need())
    if not case.legal_nature or tap.wf.nature(case.legal_nature) is None:
        raise F.FilingError("no_nature")
    await _entered(tap, case)
    await _show(tap.update, tap.context, *registration_view(tap.wf, case, tap.lang, with_back=True))


async def _act_cases(tap: Tap) -> None:
    cases = await tap.context.db(F.list_cases, tap.user_id)
    await answer_quietly(tap.update)
    await _show(tap.update, tap.context, *cases_view(tap.wf, cases, tap.lang))


async def _act_new(tap: Tap) -> None:
    case = await tap.context.db(F.start_case, tap.user_id)
    await _entered(tap, case, t("fl_new_case", tap.lang))
    await _show(tap.update, tap.context, *nature_view(tap.wf, case, tap.lang))


async def _act_rename(tap: Tap) -> None:
    case = await tap.context.db(F.set_step, tap.user_id, tap.need(), "title")
    await _entered(tap, case)
    await _show(tap.update, tap.context, _esc(t("fl_title_prompt", tap.lang)),
                InlineKeyboardMarkup([_back(case.id, tap.lang)]))


async def _act_city_menu(tap: Tap) -> None:
    case = await tap.context.db(F.get_case, tap.user_id, tap.need())
    await _entered(tap, case)
    await _show(tap.update, tap.context, *city_menu(tap.wf, case, tap.lang))


async def _act_set_city(tap: Tap) -> None:
    case_id = tap.need()
    if tap.arg is not None and tap.wf.city(tap.arg) is None:
        raise F.FilingError("unknown_city", tap.arg)
    city = "" if tap.arg is None else tap.wf.city(tap.arg).city
    screen = await tap.context.db(counted(F.set_city), tap.user_id, case_id, city)
    note = t("fl_city_set", tap.lang, city=city) if city else t("fl_city_cleared", tap.lang)
    await _entered(tap, screen.case, note)
    if not screen.case.legal_nature:
        await _show(tap.update, tap.context, *nature_view(tap.wf, screen.case, tap.lang))
        return
    await _send_checklist(tap, screen, edit=True)


async def send_summary(turn: Turn, case: F.CaseView) -> None:
    """The summary: a short message (progress, what is missing, the next step), then the full summary as a
    PDF (to print and send) and as a DOCX (to edit)."""
    wf, lang, context = turn.wf, turn.lang, turn.context
    report = _stored_report(wf, case)
    lines = report_lines(wf, report, lang) if report is not None else []
    summary = build_summary(case, wf, lang, readiness_lines=[line.strip() for line in lines])
    labels = summary_labels(lang)
    title = _title(case, lang)
    summary.title = title
    pdf, docx = await asyncio.to_thread(_summary_files, summary, labels)
    await _send(turn.update, context, summary_brief(summary, labels), html_mode=False)
    progress = summary.progress
    caption = t("fl_summary_caption", lang, title=html.escape(title, quote=False), done=progress.done, total=progress.total)
    chat_id = turn.update.effective_chat.id
    await context.bot.send_document(chat_id, document=pdf, filename=pdf_filename(summary), caption=caption)
    await context.bot.send_document(
        chat_id, document=docx, filename=docx_filename(summary), caption=caption,
        reply_markup=InlineKeyboardMarkup([_back(case.id, lang)]),
    )
    await context.db(F.mark_summary_sent, case.operator_id, case.id)


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
