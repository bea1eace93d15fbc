"""The filing flow's buttons (`CODEC`, every `fl:` action with typed arguments) and views (text + keyboard)
rendered from the workflow data — pure functions, no I/O. The handlers are in `bot/handlers/filing.py`."""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import Arg, CallbackCodec, CallbackError, Id, Optional, Token
from bot.texts import join_names, t
from db.core.timeutil import to_local
from db.filing import case_view as F
from db.filing.readiness import FAMILY, PlannedClass, ReadinessReport, check_plan
from db.filing.summary import LABEL_KEYS, human_size
from db.filing.workflow import Material, Workflow

log = logging.getLogger(__name__)
View = tuple[str, InlineKeyboardMarkup]
MARKS = {F.UPLOADED: "✅", F.READY: "✅", F.NOT_APPLICABLE: "➖", F.MISSING: "⬜"}


class _CityName(Arg):
    """A city name from the workflow data (e.g. 张家港市): 1–20 characters, no separator, no control or
    surrogate characters. Whether the city exists is checked against the data when the button is handled."""

    def parse(self, raw: str) -> str:
        if not 0 < len(raw) <= 20 or ":" in raw or not raw.isprintable() or any(
            0xD800 <= ord(ch) <= 0xDFFF for ch in raw
        ):
            raise CallbackError("bad city name")
        return raw

    def format(self, value: object) -> str:
        return self.parse(str(value))


#: Every button of this flow (data formats as before: `fl:<action>[:<case id>[:<item/nature/city>]]`).
CODEC = CallbackCodec("fl")
_WORD = Token(32)  # an item, nature or class id from knowledge/filing.yaml
A_GO = CODEC.action("go")
A_NATURE = CODEC.action("n", Id(), _WORD)
A_CHANGE_NATURE = CODEC.action("N", Id())
A_CHECKLIST = CODEC.action("c", Id())
A_ITEM = CODEC.action("i", Id(), _WORD)
A_WHAT = CODEC.action("w", Id(), _WORD)
A_READY = CODEC.action("r", Id(), _WORD)
A_NOT_APPLICABLE = CODEC.action("x", Id(), _WORD)
A_CLEAR = CODEC.action("u", Id(), _WORD)
A_SUMMARY = CODEC.action("s", Id())
A_CHECK = CODEC.action("k", Id())
A_REGISTRATION = CODEC.action("g", Id())
A_CASES = CODEC.action("l")
A_NEW = CODEC.action("new")
A_RENAME = CODEC.action("t", Id())
A_CITY_MENU = CODEC.action("y", Id())
A_SET_CITY = CODEC.action("Y", Id(), Optional(_CityName(), none="-"))


def _esc(text: str) -> str:
    return html.escape(text or "", quote=False)


def _title(case: F.CaseView, lang: str) -> str:
    return case.title or t("fl_case_title", lang, id=case.number)


def _mb(max_bytes: int) -> str:
    return f"{max_bytes / 1024 / 1024:g}"


def _unconfirmed(confirmed: bool, lang: str) -> str:
    return "" if confirmed else t("fl_unconfirmed", lang)


def _button(text: str, action: str, *values: object) -> InlineKeyboardButton:
    """A button of this flow; `CODEC.encode` refuses anything Telegram would reject (over 64 bytes)."""
    return InlineKeyboardButton(text[:60], callback_data=CODEC.encode(action, *values))


def _back(case_id: int, lang: str) -> list[InlineKeyboardButton]:
    return [_button(t("fl_btn_back", lang), A_CHECKLIST, case_id)]


def _status(status: str, lang: str) -> str:
    return t(f"fl_status_{status}", lang)


# --- Views (text + keyboard) ----------------------------------------------------------------------------------


def nature_view(wf: Workflow, case: F.CaseView, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    lines = "\n".join(
        t("fl_nature_line", lang, name=_esc(n.name.get(lang)), explain=_esc(n.explain.get(lang)))
        + _esc(_unconfirmed(n.confirmed, lang))
        for n in wf.natures
    )
    rows = [[_button(n.name.get(lang), A_NATURE, case.id, n.id)] for n in wf.natures]
    if case.legal_nature:
        rows.append(_back(case.id, lang))
    return t("fl_choose_nature", lang, lines=lines), InlineKeyboardMarkup(rows)


def registration_text(wf: Workflow, nature_id: str, lang: str) -> str:
    nature = wf.nature(nature_id)
    reg = wf.data.registration
    handover = ""
    if reg.handover is not None:
        handover = t("fl_handover", lang, text=_esc(reg.handover.text.get(lang)),
                     source=_esc(wf.cite(reg.handover)))
    return t(
        "fl_registration", lang,
        nature=_esc(nature.name.get(lang)), authority=_esc(nature.authority.get(lang)),
        certificate=_esc(nature.certificate.get(lang)), unconfirmed=_esc(_unconfirmed(nature.confirmed, lang)),
        source=_esc(wf.cite(nature)), scope=_esc(reg.business_scope.text.get(lang)),
        scope_source=_esc(wf.cite(reg.business_scope)), handover=handover,
    )


def registration_view(wf: Workflow, case: F.CaseView, lang: str, *, with_back: bool) -> View:
    """Where an institution of the case's legal nature registers, with a button to change the nature (and one
    back to the checklist when `with_back`)."""
    rows = [[_button(t("fl_btn_nature", lang), A_CHANGE_NATURE, case.id)]]
    if with_back:
        rows.append(_back(case.id, lang))
    return registration_text(wf, case.legal_nature, lang), InlineKeyboardMarkup(rows)


def cases_view(wf: Workflow, cases: list[F.CaseView], lang: str) -> View:
    """The operator's institutions, each with its progress and a button, and one for a new institution."""
    lines, rows = [], []
    for case in cases:
        nature = wf.nature(case.legal_nature)
        progress = case.progress(wf)
        lines.append(_esc(t("fl_case_line", lang, title=_title(case, lang),
                            nature=nature.name.get(lang) if nature else t("fl_no_nature_yet", lang),
                            done=progress.done, total=progress.total)))
        rows.append([_button(f"{_title(case, lang)} {progress.done}/{progress.total}", A_CHECKLIST, case.id)])
    rows.append([_button(t("fl_btn_new", lang), A_NEW)])
    return t("fl_cases", lang, lines="\n".join(lines)), InlineKeyboardMarkup(rows)


def city_menu(wf: Workflow, case: F.CaseView, lang: str) -> View:
    """The cities the workflow has additions for (the case's own ticked), and "no city"."""
    rows = []
    for city in wf.cities:
        try:
            rows.append([_button(("✓ " if city.city == case.city else "") + city.city, A_SET_CITY, case.id,
                                 city.city)])
        except CallbackError:  # a name too long for a button: the operator can still type it in the notes
            log.warning("City name of %s characters does not fit a button", len(city.city))
    rows.append([_button(t("fl_btn_no_city", lang), A_SET_CITY, case.id, None)])
    rows.append(_back(case.id, lang))
    return _esc(t("fl_city_prompt", lang)), InlineKeyboardMarkup(rows)


def checklist_view(wf: Workflow, case: F.CaseView, lang: str, n_cases: int = 1) -> tuple[str, InlineKeyboardMarkup]:
    items = case.items(wf)
    progress = case.progress(wf)
    lines = []
    for n, item in enumerate(items, start=1):
        files = t("fl_item_files", lang, count=len(item.documents)) if item.documents else ""
        lines.append(t("fl_item_line", lang, mark=MARKS[item.status], n=n, name=_esc(item.material.name.get(lang)),
                       status=_status(item.status, lang), files=files)
                     + _esc(_unconfirmed(item.material.confirmed, lang)))
    nature = wf.nature(case.legal_nature)
    filing = wf.data.filing
    text = t(
        "fl_checklist", lang,
        title=_esc(_title(case, lang)), nature=_esc(nature.name.get(lang) if nature else case.legal_nature),
        city=t("fl_checklist_city", lang, city=_esc(case.city)) if case.city else "",
        done=progress.done, total=progress.total, lines="\n".join(lines),
        authority=_esc(filing.authority.text.get(lang)), system=_esc(filing.system.text.get(lang)),
    )
    notes = wf.notes_for(case.city)
    if notes:
        text += "\n" + t("fl_local_notes", lang, city=_esc(case.city), notes="\n".join(
            f"• {_esc(n.text.get(lang))}{_esc(_unconfirmed(n.confirmed, lang))}（{_esc(wf.cite(n))}）" for n in notes))
    if progress.complete:
        text += "\n" + t("fl_checklist_done", lang)
    rows = [[_button(t("fl_btn_item", lang, mark=MARKS[i.status], name=i.material.name.get(lang)),
                     A_ITEM, case.id, i.material.id)] for i in items]
    rows.append([_button(t("fl_btn_summary", lang), A_SUMMARY, case.id),
                 _button(t("fl_btn_check", lang), A_CHECK, case.id)])
    rows.append([_button(t("fl_btn_registration", lang), A_REGISTRATION, case.id),
                 _button(t("fl_btn_city", lang), A_CITY_MENU, case.id)])
    rows.append([_button(t("fl_btn_rename", lang), A_RENAME, case.id),
                 _button(t("fl_btn_cases", lang, n=n_cases), A_CASES)])
    return text, InlineKeyboardMarkup(rows)


def _file_lines(item: F.ItemState, lang: str) -> str:
    return "\n".join(
        t("fl_file_line", lang, name=_esc(d.file_name), size=human_size(d.file_size),
          time=to_local(d.uploaded_at).strftime("%Y-%m-%d %H:%M"))
        for d in item.documents
    )


def item_view(wf: Workflow, case: F.CaseView, item: F.ItemState, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    m = item.material
    options = ""
    if m.can_mark_ready:
        options += t("fl_item_options_ready", lang)
    if m.can_be_not_applicable:
        options += t("fl_item_options_na", lang)
    text = t(
        "fl_item", lang, name=_esc(m.name.get(lang)), unconfirmed=_esc(_unconfirmed(m.confirmed, lang)),
        status=f"{MARKS[item.status]} {_status(item.status, lang)}", files=_file_lines(item, lang),
        what=_esc(m.what.get(lang)), types=_esc(join_names([ft.label for ft in wf.accepted_types(m)], lang)),
        max_mb=_mb(wf.max_bytes(m)), options=options,
    )
    row = []
    if m.can_mark_ready and item.status != F.READY:
        row.append(_button(t("fl_btn_ready", lang), A_READY, case.id, m.id))
    if m.can_be_not_applicable and item.status != F.NOT_APPLICABLE:
        row.append(_button(t("fl_btn_na", lang), A_NOT_APPLICABLE, case.id, m.id))
    row.append(_button(t("fl_btn_what", lang), A_WHAT, case.id, m.id))
    rows = [row]
    if item.status != F.MISSING:
        rows.append([_button(t("fl_btn_clear", lang), A_CLEAR, case.id, m.id)])
    rows.append(_next_and_back(wf, case, m.id, lang))
    return text, InlineKeyboardMarkup(rows)


def _next_and_back(wf: Workflow, case: F.CaseView, after: str | None, lang: str) -> list[InlineKeyboardButton]:
    row = []
    nxt = case.next_missing(wf, after)
    if nxt is not None and nxt != after:
        material = wf.material(nxt, case.city)
        row.append(_button(t("fl_btn_next", lang, name=material.name.get(lang)), A_ITEM, case.id, nxt))
    row += _back(case.id, lang)
    return row


def what_text(wf: Workflow, m: Material, lang: str) -> str:
    return t("fl_what", lang, name=_esc(m.name.get(lang)), unconfirmed=_esc(_unconfirmed(m.confirmed, lang)),
             what=_esc(m.what.get(lang)), who=_esc(m.who.get(lang)), source=_esc(wf.cite(m)))


def what_view(wf: Workflow, case: F.CaseView, m: Material, lang: str) -> View:
    """What an item is and who issues it, with buttons back to the item and to the checklist."""
    back_to_item = _button(t("fl_btn_back_item", lang, name=m.name.get(lang)), A_ITEM, case.id, m.id)
    return what_text(wf, m, lang), InlineKeyboardMarkup([[back_to_item], _back(case.id, lang)])


def _class_name(wf: Workflow, class_type: str, lang: str) -> str:
    readiness = wf.data.readiness
    if class_type == FAMILY and readiness.family is not None:
        return readiness.family.name.get(lang)
    ct = next((c for c in readiness.class_types if c.id == class_type), None)
    return ct.name.get(lang) if ct else class_type


def _class_types_text(wf: Workflow, lang: str) -> str:
    names = [c.name.get(lang) for c in wf.data.readiness.class_types]
    if wf.data.readiness.family is not None:
        names.append(wf.data.readiness.family.name.get(lang))
    return join_names(names, lang)


def _plan_text(wf: Workflow, classes: list[PlannedClass], lang: str) -> str:
    sep = "; "
    return sep.join(f"{_class_name(wf, c.class_type, lang)} {c.children} {c.carers}"
                    + (f" {c.youngest_months}{'月' if lang == 'zh' else 'm'}" if c.youngest_months is not None else "")
                    + (f" x{c.count}" if c.count > 1 else "") for c in classes)


def plan_prompt(wf: Workflow, case: F.CaseView, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    current = ""
    if case.class_plan:
        classes = [PlannedClass.from_dict(d) for d in case.class_plan]
        current = t("fl_plan_current", lang, plan=_esc(_plan_text(wf, classes, lang)))
    text = t("fl_plan_prompt", lang, source=_esc(wf.source(wf.data.readiness.source).cite()),
             types=_esc(_class_types_text(wf, lang)), current=current)
    return text, InlineKeyboardMarkup([_back(case.id, lang)])


def report_lines(wf: Workflow, report: ReadinessReport, lang: str) -> list[str]:
    """The self-check result as plain-text lines (classes, verdict, each violation with its rule, notes)."""
    lines = [
        t("fl_plan_class", lang, n=i, name=_class_name(wf, c.class_type, lang),
          count=t("fl_plan_count", lang, count=c.count) if c.count > 1 else "", children=c.children, carers=c.carers)
        for i, c in enumerate(report.classes, start=1)
    ]
    if report.ok:
        lines.append(t("fl_plan_ok", lang, classes=sum(c.count for c in report.classes),
                       children=report.total_children, carers=report.total_carers))
    else:
        lines.append(t("fl_plan_bad", lang, n=len(report.violations)))
        for v in report.violations:
            lines.append(t(f"fl_v_{v.kind}", lang, index=v.index, name=v.class_name.get(lang), children=v.children,
                           carers=v.carers, actual=v.actual, limit=v.limit))
            lines.append(t("fl_v_rule", lang, rule=v.rule.get(lang), source=v.source))
    types = {c.id: c for c in wf.data.readiness.class_types}
    for index, class_type, reason in report.notes:
        ct = types.get(class_type)
        lines.append(t(f"fl_note_{reason}", lang, index=index, name=_class_name(wf, class_type, lang),
                       age=ct.age.get(lang) if ct else ""))
    return lines


def _stored_report(wf: Workflow, case: F.CaseView) -> ReadinessReport | None:
    if not case.class_plan:
        return None
    classes = [PlannedClass.from_dict(d) for d in case.class_plan]
    return check_plan(classes, wf)


@dataclass(frozen=True)
class UploadRefusal:
    """Why a file is not recorded: `problem` is wrong_type, too_large, empty, unreadable or corrupt; `got` is
    the type it seems to be; `with_back`: offer the way back to the checklist (not after a download)."""

    problem: str
    item_name: str = ""
    max_bytes: int = 0
    size: int = 0
    types: str = ""
    got: str = ""
    with_back: bool = True


# --- Typed text and uploads --------------------------------------------------------------------------------------


def reminder_view(wf: Workflow, case: F.CaseView, lang: str) -> View:
    """Where the operator is in the case (after a policy answer): the plan prompt's reminder, or the progress
    with a button back to the item last opened."""
    if case.step == "plan":
        return t("fl_reminder_plan", lang), InlineKeyboardMarkup([_back(case.id, lang)])
    if not case.legal_nature:  # no checklist yet: "0/0" would say nothing, and there is nothing to go back to
        go_on = _button(t("fl_btn_continue", lang), A_CHECKLIST, case.id)
        return _esc(t("fl_reminder_nature", lang, title=_title(case, lang))), InlineKeyboardMarkup([[go_on]])
    progress = case.progress(wf)
    item = case.item(wf, case.current_item) if case.current_item else None
    item_text = t("fl_reminder_item", lang, name=item.material.name.get(lang)) if item is not None else ""
    text = t("fl_reminder", lang, title=_title(case, lang), done=progress.done, total=progress.total, item=item_text)
    row = _back(case.id, lang)
    if item is not None:
        row.append(_button(t("fl_btn_item", lang, mark=MARKS[item.status], name=item.material.name.get(lang)),
                           A_ITEM, case.id, item.material.id))
    return _esc(text), InlineKeyboardMarkup([row])


def plan_problem_lines(wf: Workflow, problems: list, lang: str) -> list[str]:
    """What could not be read in a typed class plan, one line each (plain text)."""
    types = _class_types_text(wf, lang)
    return [t(f"fl_plan_problem_{p.reason}", lang, text=p.text[:40], types=types) for p in problems]


def plan_unreadable_view(case: F.CaseView, problems: list[str], lang: str) -> View:
    """No class could be read from the typed plan."""
    body = "\n".join([t("fl_plan_unreadable", lang), *map(_esc, problems)])
    return body, InlineKeyboardMarkup([_back(case.id, lang)])


def plan_report_view(wf: Workflow, case: F.CaseView, report: ReadinessReport, problems: list[str],
                     lang: str) -> View:
    """The self-check of a typed plan, then what could not be read, with "check again" and back."""
    lines = report_lines(wf, report, lang) + problems
    markup = InlineKeyboardMarkup([[_button(t("fl_btn_recheck", lang), A_CHECK, case.id)], _back(case.id, lang)])
    return "\n".join(_esc(line) for line in lines), markup


def need_nature_view(lang: str) -> View:
    """A file sent before a case has a legal nature: start (or resume) the flow first."""
    return _esc(t("fl_need_nature", lang)), InlineKeyboardMarkup([[_button(t("fl_btn_start", lang), A_GO)]])


def pick_item_view(wf: Workflow, case: F.CaseView, lang: str) -> View:
    """A file sent with no item open: which item is it for?"""
    rows = [[_button(t("fl_btn_item", lang, mark=MARKS[i.status], name=i.material.name.get(lang)),
                     A_ITEM, case.id, i.material.id)] for i in case.items(wf)]
    return _esc(t("fl_upload_pick_item", lang)), InlineKeyboardMarkup(rows)


def upload_refused_view(case: F.CaseView, refusal: UploadRefusal, lang: str) -> View:
    """Why a file was not recorded (nothing changed), with a button back to the checklist where it helps."""
    name, max_mb = refusal.item_name, _mb(refusal.max_bytes)
    back = InlineKeyboardMarkup([_back(case.id, lang)])
    if refusal.problem == "wrong_type":
        return _esc(t("fl_upload_wrong_type", lang, name=name, types=refusal.types, got=refusal.got)), back
    if refusal.problem == "too_large":
        text = _esc(t("fl_upload_too_large", lang, size=human_size(refusal.size), name=name, max_mb=max_mb))
        return text, back if refusal.with_back else None
    if refusal.problem == "corrupt":
        return _esc(t("fl_upload_corrupt", lang, type=refusal.got)), back
    return _esc(t(f"fl_upload_{refusal.problem}", lang)), None  # empty, unreadable


def upload_done_view(wf: Workflow, outcome: F.UploadOutcome, material: Material, sent: F.UploadedFile,
                     lang: str) -> View:
    """A recorded file (`sent`, as the operator sent it): what was filed where, the progress, and what next."""
    progress = outcome.case.progress(wf)
    key = "fl_upload_ok" if outcome.added else "fl_upload_dup"
    text = t(key, lang, file=_esc(sent.file_name), size=human_size(sent.file_size), name=_esc(material.name.get(lang)),
             done=progress.done, total=progress.total)
    rows = [_next_and_back(wf, outcome.case, material.id, lang)]
    if progress.complete:
        text += "\n" + t("fl_checklist_done", lang)
        rows.insert(0, [_button(t("fl_btn_summary", lang), A_SUMMARY, outcome.case.id)])
    return text, InlineKeyboardMarkup(rows)


def summary_labels(lang: str) -> dict[str, str]:
    """The labels `db.filing.summary` needs (`LABEL_KEYS`), in `lang`."""
    return {key: t(f"fl_sum_{key}", lang) for key in LABEL_KEYS}
