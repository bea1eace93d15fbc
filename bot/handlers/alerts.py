"""Policy-change alerts: follow a place (from a policy answer, /start → 🔔, /alerts), unfollow, the "ask about it"
button of an alert, and the repeating job that runs the dispatcher.

The rules live in `db.knowledge.alerts` (follows, deliveries, the planner's cursor) and `retrieval.fact_diff`; the words
in `bot.alert_messages`; the texts and keyboards in `bot.handlers.alerts_views`; planning and sending in
`bot.handlers.alerts_dispatch`. Each update is one unit of work (`context.db`).
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
from dataclasses import dataclass

from sqlmodel import Session
from telegram import Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import alert_messages as words
from bot.callbacks import CallbackError
from bot.context import BotContext
from bot.handlers import policy
from bot.handlers.alerts_dispatch import Pace, dispatch
from bot.handlers.alerts_views import A_ASK, A_FOLLOW, A_LIST, CODEC, alerts_screen
from bot.handlers.common import require_private_chat
from bot.texts import t
from db.knowledge import alerts, registry
from db.knowledge.registry import KnowledgeDocument

log = logging.getLogger(__name__)

#: Cities offered in /alerts besides those followed.
OFFERED = 8


def _documented_places(answering: list[str], *, session: Session) -> list[str]:
    """The places with documents: those the bot answers from now, and published ones in the registry."""
    cities = [*answering, *(row.city for row in registry.published_rows(session=session))]
    keys = [words.place_key(city) for city in cities]
    return [k for k in dict.fromkeys(keys) if k and k != words.EVERYONE]


def _answering_cities(context: BotContext) -> list[str]:
    service = context.runtime.policy
    if service is None:
        return []
    return sorted({item.meta.city for item in service.searcher.items})


def _screen(user_id: int, answering: list[str], *, session: Session) -> tuple[list[str], list[str]]:
    """(places followed, places offered) for the /alerts screen."""
    followed = alerts.follows_of(user_id, session=session)
    offered = [k for k in _documented_places(answering, session=session) if k not in followed][:OFFERED]
    return followed, offered


async def alerts_command(update: Update, context: BotContext) -> None:
    """/alerts: what the user follows, with buttons to stop each or follow a documented city."""
    if not await require_private_chat(update, context):
        return
    lang = context.language
    followed, offered = await context.db(_screen, update.effective_user.id, _answering_cities(context))
    text, keyboard = alerts_screen(followed, offered, lang)
    await update.effective_message.reply_text(text, reply_markup=keyboard)


@dataclass(frozen=True)
class _Tap:
    """A follow or unfollow button as tapped: the action, the place token, the user's language, the cities
    the bot answers from now."""

    action: str
    token: str
    lang: str
    answering: list[str]


@dataclass(frozen=True)
class _Change:
    """A follow or unfollow tap, as one unit of work: the place it means (None: gone), whether it changed
    anything, and the /alerts screen after an unfollow."""

    key: str | None
    changed: bool = False
    screen: tuple[list[str], list[str]] | None = None


def _follow_or_unfollow(user_id: int, tap: _Tap, *, session: Session) -> _Change:
    """Resolve the place token and follow (FollowLimit past the limit) or unfollow it."""
    candidates = [*alerts.follows_of(user_id, session=session),
                  *_documented_places(tap.answering, session=session)]
    key = words.resolve_token(tap.token, candidates)
    if key is None:
        return _Change(None)
    if tap.action == A_FOLLOW:
        return _Change(key, alerts.follow(user_id, key, tap.lang, session=session))
    removed = alerts.unfollow(user_id, key, session=session)
    return _Change(key, removed, _screen(user_id, tap.answering, session=session))


async def alerts_callback(update: Update, context: BotContext) -> None:
    """Every `al:` button; forged or stale data gets a polite answer and changes nothing."""
    query = update.callback_query
    lang = context.language
    try:
        decoded = CODEC.decode(query.data)
    except CallbackError:
        await _answer(query, t("stale_button", lang))
        return
    if not await require_private_chat(update, context):
        return
    user_id = update.effective_user.id
    if decoded.action == A_LIST:
        await _answer(query)
        followed, offered = await context.db(_screen, user_id, _answering_cities(context))
        text, keyboard = alerts_screen(followed, offered, lang)
        await query.message.reply_text(text, reply_markup=keyboard)
        return
    if decoded.action == A_ASK:
        await _ask(update, context, decoded.args[0], lang)
        return
    await _change(update, context, decoded.action, decoded.args[0])


async def _change(update: Update, context: BotContext, action: str, token: str) -> None:
    """A follow or unfollow button."""
    query = update.callback_query
    lang = context.language
    user_id = update.effective_user.id
    try:
        done = await context.db(_follow_or_unfollow, user_id, _Tap(action, token, lang, _answering_cities(context)))
    except alerts.FollowLimit:
        await _answer(query, t("al_limit", lang, n=alerts.MAX_FOLLOWS), alert=True)
        return
    if done.key is None:
        await _answer(query, t("al_place_gone", lang), alert=True)
        return
    place = words.place_name(done.key, short=True)
    if action == A_FOLLOW:
        log.info("user %s follows a place (new=%s)", user_id, done.changed)
        await _answer(query)
        await query.message.reply_text(t("al_followed" if done.changed else "al_already", lang,
                                         place=html.escape(place)))
        return
    await _answer(query, t("al_unfollowed" if done.changed else "al_not_following", lang, place=place))
    text, keyboard = alerts_screen(*done.screen, lang)
    with contextlib.suppress(BadRequest):  # "message is not modified" after a double tap
        await query.edit_message_text(text, reply_markup=keyboard)


def _asked_document(generation: int, *, session: Session) -> tuple[bool, KnowledgeDocument | None]:
    """(whether the alert exists, the document it is about as it stands now)."""
    message = alerts.alert_message(generation, session=session)
    if message is None:
        return False, None
    return True, registry.current(message.doc_id, session=session)


async def _ask(update: Update, context: BotContext, generation: int, lang: str) -> None:
    query = update.callback_query
    known, row = await context.db(_asked_document, generation)
    if not known:
        await _answer(query, t("al_gone", lang), alert=True)
        return
    await _answer(query)
    if row is None or row.status != "published":
        await query.message.reply_text(t("al_gone", lang))
        return
    await policy.answer_question(update, context, row.title, lang)


async def _answer(query, text: str | None = None, *, alert: bool = False) -> None:
    with contextlib.suppress(Exception):
        await query.answer(text, show_alert=alert)


async def alerts_job(context: BotContext) -> None:
    """The repeating job: dispatch while the application runs (one run at a time per process)."""
    rt = context.runtime
    if rt.policy is None or not rt.policy_ready.is_set():
        return  # the chunk store is needed for the fact diff; the next run plans once the index is loaded
    lock: asyncio.Lock = context.application.bot_data.setdefault("alerts_lock", asyncio.Lock())
    if lock.locked():
        return
    async with lock:
        await dispatch(context.bot, rt.engine, rt.policy.store, pace=Pace(rt.settings.alerts_rate),
                       keep_going=lambda: context.application.running)


def register(application: Application) -> None:
    """The /alerts command, the `al:` buttons and, where there is a job queue, the repeating alerts job."""
    application.add_handler(CommandHandler("alerts", alerts_command))
    application.add_handler(CallbackQueryHandler(alerts_callback, pattern=CODEC.pattern))
    rt = application.bot_data.get("runtime")
    if application.job_queue is not None and rt is not None:
        application.job_queue.run_repeating(
            alerts_job, interval=rt.settings.alerts_interval_s, first=2, name="policy-alerts",
            # A run sending a long batch overlaps the next tick: that one sees the lock and returns at once
            # (rather than APScheduler skipping it with a warning every interval).
            job_kwargs={"max_instances": 2, "coalesce": True},
        )
