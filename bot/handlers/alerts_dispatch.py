"""The alerts dispatcher: turns knowledge-base changes into one message per follower, where RUN_JOBS is on.

1. plan: the changes after the cursor (kb_changes) become an alert message and one pending delivery per
   follower (nothing for silent publishes, re-indexing or a cosmetic replacement);
2. send: claim a batch (pending → sending), send each at most ALERTS_RATE per second (below Telegram's ~30/s;
   the application's AIORateLimiter paces and retries 429s as well), then mark them sent / failed (blocked,
   chat gone) / pending again (flood control, network) — so a restart resumes with the pending rows and
   nobody gets a message twice. A 429 that outlasts the limiter's retries pauses the batch for retry_after.

Each step is one unit of work of its own (`session_scope` in a worker thread), committed before the next: a
claim is in the database before its messages go out, an outcome right after.
"""

from __future__ import annotations

import asyncio
import html
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot import alert_messages as words
from bot.context import unit_of_work
from bot.handlers.alerts_views import alert_keyboard
from db.core.engine import run_unit
from db.knowledge import alerts
from db.knowledge.changes import Change

log = logging.getLogger(__name__)

T = TypeVar("T")
SENT, FAILED, RETRY, MAYBE = "sent", "failed", "retry", "maybe"


async def _unit(engine: Engine, work: Callable[..., T], /, *args, **kwargs) -> T:
    return await unit_of_work(engine, work, *args, **kwargs)


def plan(engine: Engine, build: Callable[[Change], alerts.Planned], limit: int = 50) -> tuple[int, int]:
    """Turn the changes after the cursor into messages and deliveries; returns (changes handled, deliveries
    queued). `build` renders a change (it may read the chunk store: it is called outside any transaction).

    Each change is committed on its own with the cursor moved by compare-and-set, so two planners running at
    once never queue a change twice (the loser's transaction is rolled back, and deliveries are unique per
    (generation, user) besides)."""
    handled = queued = 0
    for change in run_unit(engine, alerts.changes_to_plan, limit):
        planned = build(change) if alerts.notifies(change) else None
        try:
            added = run_unit(engine, alerts.queue_change, change, planned)
        except IntegrityError:  # a concurrent planner queued this generation
            added = None
        if added is None:
            break  # another planner got there first; it carries on from here
        handled += 1
        queued += added
    return handled, queued


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
        # The stored text is plain; messages are HTML (titles and clauses may hold "<" or "&").
        await bot.send_message(delivery.user_id, html.escape(delivery.text, quote=False),
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


@dataclass(frozen=True)
class Pace:
    """How fast `dispatch` sends: at most `rate` messages per second (0: no pacing), claiming `batch`
    deliveries at a time (None: a second's worth, or 100 without pacing)."""

    rate: float = 25.0
    batch: int | None = None

    @property
    def batch_size(self) -> int:
        """How many deliveries one claim takes."""
        return self.batch or (max(1, int(self.rate)) if self.rate > 0 else 100)


DEFAULT_PACE = Pace()


async def dispatch(
    bot, engine: Engine, store, *, pace: Pace = DEFAULT_PACE, keep_going=lambda: True
) -> DispatchReport:
    """Plan new changes (with the chunk store `store`; None: only send what is pending), then send every
    pending delivery at `pace`, until none is left or `keep_going()` turns false (the application stops: the
    rest stay pending)."""
    report = DispatchReport()
    await _unit(engine, alerts.expire_stale)
    if store is not None:
        try:
            report.changes, report.queued = await asyncio.to_thread(
                plan, engine, partial(words.plan_change, engine, store)
            )
        except Exception:  # e.g. the chunk store is away: the cursor did not move, the next run plans again
            log.exception("alerts: planning failed; the pending deliveries are still sent")
    pacer, size = _Pacer(pace.rate), pace.batch_size
    while keep_going():
        claimed = await _unit(engine, alerts.claim_batch, size)  # committed before anything is sent
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


async def _send_batch(bot, engine: Engine, claimed: list[alerts.Delivery], pacer: _Pacer) -> list[asyncio.Task]:
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
        await _unit(engine, alerts.finish, alerts.Outcome(sent=done, released=unsent))
        raise
    return tasks


async def _settle(engine: Engine, claimed: list[alerts.Delivery], tasks: list[asyncio.Task],
                  report: DispatchReport) -> float | None:
    """Record a batch's outcomes; the pause to take before the next batch when some must be retried."""
    outcome = alerts.Outcome()
    pause = 0.0
    for delivery, task in zip(claimed, tasks, strict=True):
        result, code, retry_after = task.result()
        if result == SENT:
            outcome.sent.append(delivery.id)
        elif result in (FAILED, MAYBE):
            outcome.failed[delivery.id] = code
        else:
            outcome.released.append(delivery.id)
            if code == "retry_after":
                report.flood_waits += 1
                pause = max(pause, retry_after)
        if code:
            report.errors[code] = report.errors.get(code, 0) + 1
    await _unit(engine, alerts.finish, outcome)
    report.sent += len(outcome.sent)
    report.failed += len(outcome.failed)
    report.retried += len(outcome.released)
    return max(pause, 1.0) if outcome.released else None
