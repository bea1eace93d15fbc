"""Care messages after the search: booked, /bookings, the waitlist (full session, joined, offers, left),
cancelling, the operator's notes, reminders, /today and /addsession. Pure functions from data to (HTML text,
keyboard), built from `care_words`; import them through `care_views`, which re-exports them."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date

from telegram import InlineKeyboardMarkup

from bot.handlers.care_words import (
    A_ADD_AT,
    A_CANCEL_ASK,
    A_CANCEL_NO,
    A_CANCEL_YES,
    A_DROP,
    A_WL_JOIN,
    A_WL_LEAVE,
    A_WL_PASS,
    A_WL_TAKE,
    button,
    day_label,
    session_text,
)
from bot.texts import t
from db.core.timeutil import fmt_time, to_local
from db.models import CareSession, Institution


def view_session(view, lang: str) -> str:
    """A booking's session in words (same as everywhere else)."""
    return session_text(view.service, view.start_time, view.end_time, view.price, lang)


def render_booked(view, lang: str) -> str:
    """The confirmation after booking."""
    return t(
        "care_booked", lang, code=view.code, inst=html.escape(view.institution_name), date=day_label(view.date, lang),
        session=view_session(view, lang), address=html.escape(view.address or view.district),
    )


def render_bookings(views: list, lang: str, entries: list | None = None) -> tuple[str, InlineKeyboardMarkup]:
    """/bookings: each booking with its session (length, price), the child's age, the code; cancel buttons.
    Then the parent's waitlist entries (`db.waitlist.WaitlistEntryView`) with their positions; leave buttons."""
    lines = [t("care_bookings_title", lang)] if views else []
    buttons = []
    for n, v in enumerate(views, start=1):
        lines.append(
            t("care_booking_line", lang, n=n, date=day_label(v.date, lang), session=view_session(v, lang),
              inst=html.escape(v.institution_name), age=v.child_age_months, code=v.code)
        )
        buttons.append(button(t("care_btn_cancel_booking", lang, n=n), A_CANCEL_ASK, v.booking_id))
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    if entries:
        if lines:
            lines.append("")
        lines.append(t("care_wl_title", lang))
        leave = []
        for n, e in enumerate(entries, start=1):
            common = dict(n=n, date=day_label(e.date, lang), inst=html.escape(e.institution_name),
                          session=session_text(e.service, e.start_time, e.end_time, e.price, lang),
                          age=e.child_age_months)
            if e.position is None and e.offer_expires_at is not None:
                lines.append(t("care_wl_line_offered", lang, until=local_clock(e.offer_expires_at), **common))
            else:
                lines.append(t("care_wl_line", lang, position=e.position or "—", **common))
            leave.append(button(t("care_wl_btn_leave", lang, n=n), A_WL_LEAVE, e.entry_id))
        rows += [leave[i : i + 2] for i in range(0, len(leave), 2)]
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def local_clock(moment) -> str:
    """An aware time as Asia/Shanghai HH:MM (M/D HH:MM when not today)."""
    local = to_local(moment)
    clock = local.strftime("%H:%M")
    return clock if local.date() == to_local(None).date() else f"{local.month}/{local.day} {clock}"


@dataclass(frozen=True)
class FullSession:
    """A full session as the "join the waitlist" message shows it: the session, its institution and how many
    parents already wait."""

    care: CareSession
    institution: Institution
    queue: int


def render_waitlist_full(
    full: FullSession, hold_minutes: int, months: int, lang: str
) -> tuple[str, InlineKeyboardMarkup]:
    """A full session: instead of a dead end, offer to join its waitlist (with the child's age)."""
    care, queue = full.care, full.queue
    text = t(
        "care_wl_full", lang, inst=html.escape(full.institution.name), date=day_label(care.date, lang),
        session=session_text(care.service, care.start_time, care.end_time, care.price, lang),
        queue=t("care_wl_queue_size", lang, n=queue) if queue else "", hold=hold_minutes,
    )
    markup = InlineKeyboardMarkup([[
        button(t("care_wl_btn_join", lang), A_WL_JOIN, care.id, months),
        button(t("care_btn_cancel_flow", lang), A_DROP),
    ]])
    return text, markup


def render_waitlist_joined(entry, lang: str) -> str:
    """Joined: the position in the queue."""
    return t(
        "care_wl_joined", lang, inst=html.escape(entry.institution_name), date=day_label(entry.date, lang),
        session=session_text(entry.service, entry.start_time, entry.end_time, entry.price, lang),
        age=entry.child_age_months, position=entry.position or 1,
    )


def render_offer(view, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    """A freed place offered to a waiting parent (`db.waitlist.OfferView`): take it or pass."""
    text = t(
        "care_wl_offer", lang, inst=html.escape(view.institution_name), date=day_label(view.date, lang),
        session=session_text(view.service, view.start_time, view.end_time, view.price, lang),
        age=view.child_age_months, until=local_clock(view.offer.expires_at),
    )
    markup = InlineKeyboardMarkup([[
        button(t("care_wl_btn_take", lang), A_WL_TAKE, view.offer_id),
        button(t("care_wl_btn_pass", lang), A_WL_PASS, view.offer_id),
    ]])
    return text, markup


def render_offer_expired(view, lang: str) -> str:
    """The hold on an offered place ended unanswered."""
    return t(
        "care_wl_expired_note", lang, inst=html.escape(view.institution_name), date=day_label(view.date, lang),
        session=session_text(view.service, view.start_time, view.end_time, view.price, lang),
    )


def render_waitlist_left(entry, lang: str) -> str:
    """Left a queue."""
    return t(
        "care_wl_left", lang, inst=html.escape(entry.institution_name), date=day_label(entry.date, lang),
        session=session_text(entry.service, entry.start_time, entry.end_time, entry.price, lang),
    )


def render_cancel_ask(view, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    """Are you sure?"""
    text = t(
        "care_cancel_confirm", lang, date=day_label(view.date, lang), start=fmt_time(view.start_time),
        inst=view.institution_name, code=view.code,
    )
    markup = InlineKeyboardMarkup([[
        button(t("care_btn_cancel_yes", lang), A_CANCEL_YES, view.booking_id),
        button(t("care_btn_cancel_no", lang), A_CANCEL_NO),
    ]])
    return text, markup


def render_operator_note(key: str, view, lang: str, booked: int, capacity: int) -> str:
    """The operator's notification of a new or cancelled booking, with the session's price."""
    return t(
        key, lang, code=view.code, inst=view.institution_name, date=day_label(view.date, lang),
        session=view_session(view, lang), age=view.child_age_months, booked=booked, capacity=capacity,
    )


def render_reminder(view, lang: str) -> str:
    """The day-before reminder."""
    return t(
        "care_reminder", lang, inst=view.institution_name, code=view.code, session=view_session(view, lang),
        address=view.address or view.district,
    )


def render_today(institution_name: str, day: date, views: list, lang: str,
                 queues: list | None = None) -> str:
    """An operator's bookings of one centre on one day; then, per session with a waitlist, its queue length
    (`queues`: (session slot, waiting count) pairs)."""
    queued = [(s, n) for s, n in (queues or []) if n > 0]
    if not views and not queued:
        return t("care_today_none", lang, inst=html.escape(institution_name), date=day_label(day, lang))
    lines = [t("care_today_title", lang, inst=html.escape(institution_name), date=day_label(day, lang))]
    lines += [
        t("care_today_line", lang, session=view_session(v, lang), code=v.code, age=v.child_age_months,
          status=t(f"care_status_{v.status}", lang))
        for v in views
    ]
    lines += [
        t("care_today_queue", lang, session=session_text(s.service, s.start_time, s.end_time, s.price, lang),
          booked=s.booked, capacity=s.capacity, n=n)
        for s, n in queued
    ]
    return "\n".join(lines)


def spec_session(spec, lang: str) -> str:
    """A session an operator is adding, in words."""
    return session_text(spec.service, spec.start, spec.end, spec.price, lang)


def addsession_choose(spec, institutions: list, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    """Which of the operator's centres gets the session."""
    text = t("care_addsession_choose", lang, session=spec_session(spec, lang), date=day_label(spec.day, lang),
             capacity=spec.capacity)
    rows = [[button(inst.name[:40], A_ADD_AT, inst.id)] for inst in institutions[:20]]
    return text, InlineKeyboardMarkup(rows)


def render_addsession_done(institution_name: str, spec, lang: str) -> str:
    """The session was added."""
    return t("care_addsession_done", lang, inst=institution_name, date=day_label(spec.day, lang),
             session=spec_session(spec, lang), capacity=spec.capacity)
