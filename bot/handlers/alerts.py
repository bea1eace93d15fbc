"""Policy-change alerts: follow a place (from a policy answer, /start → 🔔, /alerts), unfollow, the "ask about it"
button of an alert, and the dispatcher job that turns knowledge-base changes into one message per follower.

The rules live in `db.knowledge.alerts` (follows, deliveries, the planner's cursor) and `retrieval.fact_diff`; the words
in `bot.alert_messages`. The dispatcher (`dispatch`) runs where RUN_JOBS is on:

1. plan: the changes after the cursor (kb_changes) become an alert message and one pending delivery per
   follower (nothing for silent publishes, re-indexing or a cosmetic replacement);
2. send: claim a batch (pending → sending), send each at most ALERTS_RATE per second (below Telegram's ~30/s;
   the application's AIORateLimiter paces and retries 429s as well), then mark them sent / failed (blocked,
   chat gone) / pending again (flood control, network) — so a restart resumes with the pending rows and
   nobody gets a message twice. A 429 that outlasts the limiter's retries pauses the batch for retry_after.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from dataclasses import dataclass, field
from functools import partial

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import alert_messages as words
from bot.callbacks import CallbackCodec, CallbackError, Id, Token
from bot.context import BotContext
from bot.texts import t
from db.core.engine import session_scope
from db.knowledge import alerts

log = logging.getLogger(__name__)

CODEC = CallbackCodec("al")
_PLACE = Token(words.TOKEN_LENGTH, r"^[0-9a-f]+$")
A_FOLLOW = CODEC.action("f", _PLACE)
A_UNFOLLOW = CODEC.action("u", _PLACE)
A_ASK = CODEC.action("ask", Id())
A_LIST = CODEC.action("ls")
#: Cities offered in /alerts besides those followed.
OFFERED = 8


def follow_button(city_or_key: str, lang: str) -> InlineKeyboardButton | None:
    """The "🔔 关注XX政策更新" button for a city an answer is about (None when no place is known)."""
    key = words.place_key(city_or_key)
    if not key or key == words.EVERYONE:
        return None
    return InlineKeyboardButton(
        t("al_btn_follow", lang, place=words.place_name(key, short=True)),
        callback_data=CODEC.encode(A_FOLLOW, words.place_token(key)),
    )


def settings_row(lang: str) -> list[InlineKeyboardButton]:
    """The /start settings entry: one button opening the alerts screen."""
    return [InlineKeyboardButton(t("al_btn_settings", lang), callback_data=CODEC.encode(A_LIST))]


def alert_keyboard(generation: int, lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(t("al_btn_ask", lang), callback_data=CODEC.encode(A_ASK, generation)),
        InlineKeyboardButton(t("al_btn_manage", lang), callback_data=CODEC.encode(A_LIST)),
    ]])


def _documented_places(engine, answering: list[str]) -> list[str]:
    """The places with documents: those the bot answers from now, and published ones in the registry."""
    from db.knowledge import registry

    with session_scope(engine) as session:
        published = registry.published_rows(session=session)
    cities = [*answering, *(row.city for row in published)]
    keys = [words.place_key(city) for city in cities]
    return [k for k in dict.fromkeys(keys) if k and k != words.EVERYONE]


def _answering_cities(context: BotContext) -> list[str]:
    service = context.runtime.policy
    if service is None:
        return []
    return sorted({item.meta.city for item in service.searcher.items})


def _alerts_view(engine, user_id: int, lang: str, answering: list[str]) -> tuple[str, InlineKeyboardMarkup | None]:
    followed = alerts.follows_of(engine, user_id)
    offered = [k for k in _documented_places(engine, answering) if k not in followed][:OFFERED]
    rows = [[InlineKeyboardButton(t("al_btn_unfollow", lang, place=words.place_name(k, short=True)),
                                  callback_data=CODEC.encode(A_UNFOLLOW, words.place_token(k)))] for k in followed]
    follow_buttons = [follow_button(k, lang) for k in offered]
    follow_buttons = [b for b in follow_buttons if b is not None]
    rows += [follow_buttons[i:i + 2] for i in range(0, len(follow_buttons), 2)]
    if followed:
        names = "\n".join(f"• {words.place_name(k)}" for k in followed)
        text = t("al_list_title", lang, places=names)
    else:
        text = t("al_list_empty", lang)
    return text, InlineKeyboardMarkup(rows) if rows else None


def _private(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type == ChatType.PRIVATE


async def alerts_command(update: Update, context: BotContext) -> None:
    """/alerts: what the user follows, with buttons to stop each or follow a documented city."""
    from bot.handlers.common import require_private_chat

    if not await require_private_chat(update, context):
        return
    lang = context.language
    text, keyboard = await asyncio.to_thread(_alerts_view, context.runtime.engine, update.effective_user.id, lang,
                                           _answering_cities(context))
    await update.effective_message.reply_text(text, reply_markup=keyboard)


async def alerts_callback(update: Update, context: BotContext) -> None:
    """Every `al:` button; forged or stale data gets a polite answer and changes nothing."""
    from bot.handlers.common import require_private_chat

    query = update.callback_query
    lang = context.language
    try:
        decoded = CODEC.decode(query.data)
    except CallbackError:
        await _answer(query, t("stale_button", lang))
        return
    if not await require_private_chat(update, context):
        return
    engine = context.runtime.engine
    user_id = update.effective_user.id
    if decoded.action == A_LIST:
        await _answer(query)
        text, keyboard = await asyncio.to_thread(_alerts_view, engine, user_id, lang, _answering_cities(context))
        await query.message.reply_text(text, reply_markup=keyboard)
        return
    if decoded.action == A_ASK:
        await _ask(update, context, decoded.args[0], lang)
        return
    token = decoded.args[0]
    answering = _answering_cities(context)
    candidates = await asyncio.to_thread(
        lambda: [*alerts.follows_of(engine, user_id), *_documented_places(engine, answering)]
    )
    key = words.resolve_token(token, candidates)
    if key is None:
        await _answer(query, t("al_place_gone", lang), alert=True)
        return
    place = words.place_name(key, short=True)
    if decoded.action == A_FOLLOW:
        try:
            added = await asyncio.to_thread(alerts.follow, engine, user_id, key, lang)
        except alerts.FollowLimit:
            await _answer(query, t("al_limit", lang, n=alerts.MAX_FOLLOWS), alert=True)
            return
        log.info("user %s follows a place (new=%s)", user_id, added)
        await _answer(query)
        await query.message.reply_text(t("al_followed" if added else "al_already", lang, place=place))
        return
    removed = await asyncio.to_thread(alerts.unfollow, engine, user_id, key)
    await _answer(query, t("al_unfollowed" if removed else "al_not_following", lang, place=place))
    text, keyboard = await asyncio.to_thread(_alerts_view, engine, user_id, lang, _answering_cities(context))
    with contextlib.suppress(BadRequest):  # "message is not modified" after a double tap
        await query.edit_message_text(text, reply_markup=keyboard)


async def _ask(update: Update, context: BotContext, generation: int, lang: str) -> None:
    from bot.handlers import policy

    query = update.callback_query
    message = await asyncio.to_thread(alerts.alert_message, context.runtime.engine, generation)
    if message is None:
        await _answer(query, t("al_gone", lang), alert=True)
        return
    await _answer(query)
    from db.knowledge import registry

    row = await context.db(registry.current, message.doc_id)
    if row is None or row.status != "published":
        await query.message.reply_text(t("al_gone", lang))
        return
    await policy.answer_question(update, context, row.title, lang)


async def _answer(query, text: str | None = None, *, alert: bool = False) -> None:
    with contextlib.suppress(Exception):
        await query.answer(text, show_alert=alert)


# --- the dispatcher -------------------------------------------------------------------------------------------------

SENT, FAILED, RETRY, MAYBE = "sent", "failed", "retry", "maybe"


@dataclass
class DispatchReport:
    """What one dispatcher run did (counts only)."""

    changes: int = 0
    queued: int = 0
    sent: int = 0
    failed: int = 0
    retried: int = 0
    flood_waits: int = 0
    errors: dict[str, int] = field(default_factory=dict)


def _seconds(error: RetryAfter) -> float:
    """retry_after in seconds (an int today, a timedelta in a later python-telegram-bot)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        retry = error.retry_after
    return float(retry.total_seconds() if hasattr(retry, "total_seconds") else retry)


async def _send_one(bot, delivery: alerts.Delivery) -> tuple[str, str, float]:
    """(outcome, error code, retry_after) of sending one alert to the follower's private chat."""
    try:
        await bot.send_message(delivery.user_id, delivery.text,
                               reply_markup=alert_keyboard(delivery.generation, delivery.lang))
    except Forbidden:
        return FAILED, "forbidden", 0.0
    except BadRequest:
        return FAILED, "bad_request", 0.0
    except RetryAfter as error:
        return RETRY, "retry_after", _seconds(error)
    except TimedOut as error:
        cause = error.__cause__
        if cause is not None and type(cause).__name__ in ("ConnectTimeout", "PoolTimeout"):
            return RETRY, "timeout", 0.0
        return MAYBE, "maybe_sent", 0.0  # it may have arrived: never sent again
    except NetworkError:
        return RETRY, "network", 0.0
    except TelegramError:  # anything else Telegram refused: not retried
        return FAILED, "telegram", 0.0
    except Exception:  # a bug or an unexpected library error: it may have gone out, so never again
        log.exception("alerts: unexpected error sending delivery %s", delivery.id)
        return MAYBE, "error", 0.0
    return SENT, "", 0.0


async def dispatch(bot, engine, store, *, rate: float = 25.0, batch: int | None = None,
                   keep_going=lambda: True) -> DispatchReport:
    """Plan new changes (with the chunk store `store`; None: only send what is pending), then send every
    pending delivery, at most `rate` messages per second (0: no pacing), until none is left or `keep_going()`
    turns false (the application stops: the rest stay pending)."""
    report = DispatchReport()
    await asyncio.to_thread(alerts.expire_stale, engine)
    if store is not None:
        try:
            report.changes, report.queued = await asyncio.to_thread(
                alerts.plan, engine, partial(words.plan_change, engine, store)
            )
        except Exception:  # e.g. the chunk store is away: the cursor did not move, the next run plans again
            log.exception("alerts: planning failed; the pending deliveries are still sent")
    pacer = _Pacer(rate)
    size = batch or (max(1, int(rate)) if rate > 0 else 100)
    while keep_going():
        claimed = await asyncio.to_thread(alerts.claim_batch, engine, size)
        if not claimed:
            break
        tasks = await _send_batch(bot, engine, claimed, pacer)
        pause = await _settle(engine, claimed, tasks, report)
        if pause is not None:
            await asyncio.sleep(pause)  # flood control or the network: back off before the rest
    if report.changes or report.sent or report.failed or report.retried:
        log.info("alerts: %d changes planned, %d queued, %d sent, %d failed, %d to retry", report.changes,
                 report.queued, report.sent, report.failed, report.retried)
    return report


class _Pacer:
    """Spaces sends `1/rate` seconds apart (no spacing for rate 0)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.loop = asyncio.get_running_loop()
        self.next_at = self.loop.time()

    async def wait(self) -> None:
        """Return when the next send may start."""
        self.next_at = max(self.next_at, self.loop.time())
        if self.next_at > self.loop.time():
            await asyncio.sleep(self.next_at - self.loop.time())
        self.next_at += self.interval


async def _send_batch(bot, engine, claimed: list, pacer: _Pacer) -> list[asyncio.Task]:
    """Start one send per claimed delivery, paced, and wait for them all."""
    tasks: list[asyncio.Task] = []
    try:
        for delivery in claimed:
            await pacer.wait()
            tasks.append(asyncio.create_task(_send_one(bot, delivery)))
        await asyncio.gather(*tasks)
    except asyncio.CancelledError:
        # Stopped mid-batch: unsent rows go back to pending; rows whose send was under way stay `sending`
        # (they may have arrived) and become `unknown` after the lease — never sent twice.
        done = [d.id for d, task in zip(claimed, tasks, strict=False)
                if task.done() and not task.cancelled() and task.result()[0] == SENT]
        unsent = [d.id for d in claimed[len(tasks):]]
        for task in tasks:
            task.cancel()
        log.info("alerts: stopped mid-batch (%d sent, %d given back, %d unclear)", len(done), len(unsent),
                 len(tasks) - len(done))
        await asyncio.to_thread(alerts.finish, engine, done, {}, unsent)
        raise
    return tasks


async def _settle(engine, claimed: list, tasks: list[asyncio.Task], report: DispatchReport) -> float | None:
    """Record a batch's outcomes; the pause to take before the next batch when some must be retried."""
    sent, failed, released = [], {}, []
    pause = 0.0
    for delivery, task in zip(claimed, tasks, strict=True):
        outcome, code, retry_after = task.result()
        if outcome == SENT:
            sent.append(delivery.id)
        elif outcome in (FAILED, MAYBE):
            failed[delivery.id] = code
        else:
            released.append(delivery.id)
            if code == "retry_after":
                report.flood_waits += 1
                pause = max(pause, retry_after)
        if code:
            report.errors[code] = report.errors.get(code, 0) + 1
    await asyncio.to_thread(alerts.finish, engine, sent, failed, released)
    report.sent += len(sent)
    report.failed += len(failed)
    report.retried += len(released)
    return max(pause, 1.0) if released else None


async def alerts_job(context: BotContext) -> None:
    """The repeating job: dispatch while the application runs (one run at a time per process)."""
    rt = context.runtime
    if rt.policy is None or not rt.policy_ready.is_set():
        return  # the chunk store is needed for the fact diff; the next run plans once the index is loaded
    lock: asyncio.Lock = context.application.bot_data.setdefault("alerts_lock", asyncio.Lock())
    if lock.locked():
        return
    async with lock:
        await dispatch(context.bot, rt.engine, rt.policy.store, rate=rt.settings.alerts_rate,
                       keep_going=lambda: context.application.running)


def register(application: Application) -> None:
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
