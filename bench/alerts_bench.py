"""Alerts benchmark: how long does it take to tell 10,000 followers about a policy change, within Telegram's limits?

Everything is real but Telegram: the database (SQLite file, or DATABASE_URL / --database-url), the planner
(`bot.handlers.alerts_dispatch.plan`: one kb_changes row → one alert message + 10,000 pending deliveries), the
dispatcher (`bot.handlers.alerts_dispatch.dispatch`: claim a batch, pace, send, record) and python-telegram-bot's
ExtBot with the app's AIORateLimiter, sending over HTTP to the fake Bot API server (tests/fakes/bot_api_server.py) in
this process. 0.5 % of the followers blocked the bot (403) and the server answers a few sendMessage calls with 429
retry_after=1, to show both are survived: blocked ones are marked failed, 429s are retried.

Two runs, because Telegram's ~30 messages/s makes 10,000 messages take ≥ 5.5 minutes:

* `real_limit`: a sample (default 750 followers) at the production pace (ALERTS_RATE 25/s and the limiter's
  TELEGRAM_RATE_LIMIT 30/s) — checks that the pacing holds the rate; `projection_10000_s` extrapolates it.
* `measured`: all 10,000 at a raised limit (default 250/s, `--rate`) — what the machinery (database, claims,
  HTTP) sustains, i.e. that the real limit, not the bot, is the bottleneck.

Run: `python -m bench.alerts_bench [--followers 10000] [--rate 250] [--sample 750] [--database-url URL]`.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert

from bot.alert_messages import compose
from bot.handlers.alerts_dispatch import Pace, dispatch, plan
from db.core.engine import make_engine, run_unit, session_scope
from db.core.migrate import upgrade_to_head
from db.knowledge import alerts
from db.knowledge.changes import NewChange, record_change
from tests.fakes.bot_api_server import FakeBotApiServer

TOKEN = "123:BENCH"
PLACE = "江苏省/苏州市/张家港市"
TEXTS = compose("publish", "张家港市普惠托育服务补贴实施办法", "张家港市",
                [(("三、补贴标准",), "（一）全日托婴幼儿按每人每月500元的标准发放托育服务补贴。")])


@dataclass(frozen=True)
class Limits:
    """A run's two limits: the dispatcher's pace (ALERTS_RATE) and the AIORateLimiter's (TELEGRAM_RATE_LIMIT),
    in messages per second."""

    alerts_rate: float
    telegram_rate: float


def _prepare(engine, followers: list[int], generation_doc: str) -> tuple[int, float]:
    """Follows for `followers`, one notifying change, planned into deliveries; returns (queued, seconds)."""
    table = alerts.PolicyFollow.__table__
    with engine.begin() as conn:
        for start in range(0, len(followers), 1000):
            conn.execute(insert(table), [
                {"user_id": uid, "place": PLACE, "lang": "zh" if uid % 3 else "en", "created_at": alerts._utcnow()}
                for uid in followers[start:start + 1000]
            ])
    with session_scope(engine) as session:
        record_change(NewChange("publish", doc_id=generation_doc, index_id=generation_doc), session=session)
    started = time.perf_counter()
    _, queued = plan(engine, lambda change: alerts.Planned(TEXTS, (PLACE,), change.doc_id, change.index_id))
    return queued, time.perf_counter() - started


async def _send_all(server: FakeBotApiServer, engine, limits: Limits) -> dict:
    from telegram.ext import AIORateLimiter, ExtBot
    from telegram.request import HTTPXRequest

    limiter = AIORateLimiter(overall_max_rate=limits.telegram_rate,
                             overall_time_period=1 if limits.telegram_rate else 0, max_retries=3)
    bot = ExtBot(TOKEN, base_url=server.base_url, rate_limiter=limiter,
                 request=HTTPXRequest(connection_pool_size=128, pool_timeout=10.0))
    refused_before = len(server.refused_calls)
    async with bot:
        started = time.perf_counter()
        pace = Pace(limits.alerts_rate)
        report = await dispatch(bot, engine, None, pace=pace)
        while (await asyncio.to_thread(run_unit, engine, alerts.delivery_counts))["pending"]:  # retried ones
            more = await dispatch(bot, engine, None, pace=pace)
            report.sent += more.sent
            report.failed += more.failed
        seconds = time.perf_counter() - started
    counts = run_unit(engine, alerts.delivery_counts)
    return {
        "alerts_rate": limits.alerts_rate,
        "telegram_rate_limit": limits.telegram_rate,
        "seconds": round(seconds, 2),
        "messages_per_s": round(counts["sent"] / seconds, 1) if seconds else None,
        "sent": counts["sent"],
        "failed_blocked": counts["failed"],
        "unknown": counts["unknown"],
        "pending_left": counts["pending"],
        "http_429_seen": len(server.refused_calls) - refused_before,
        "errors": report.errors,
    }


def _run(followers: int, limits: Limits, database_url: str | None, tag: str, inject_429: int) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"alerts-bench-{tag}-") as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        engine = make_engine(url)
        upgrade_to_head(engine)
        ids = list(range(10_000_000, 10_000_000 + followers))
        with FakeBotApiServer() as server:
            for uid in ids:
                server.api.add_user(uid)
            for uid in ids[::200]:  # 0.5 % blocked the bot
                server.api.user_blocks_bot(uid)
            queued, plan_s = _prepare(engine, ids, f"bench-{tag}-{time.time_ns()}")
            if inject_429:
                server.fail_next("sendMessage", times=inject_429, code=429, retry_after=1)
            result = asyncio.run(_send_all(server, engine, limits))
            delivered = {m.chat_id for m in server.api.sent}
            duplicates = len(server.api.sent) - len(delivered)
        engine.dispose()
    return {"followers": followers, "queued": queued, "plan_seconds": round(plan_s, 2), **result,
            "duplicates": duplicates}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--followers", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=250.0, help="raised pace of the measured run (messages/s)")
    parser.add_argument("--sample", type=int, default=750, help="followers of the run at the real limit")
    parser.add_argument("--real-rate", type=float, default=25.0, help="ALERTS_RATE in production")
    parser.add_argument("--telegram-rate", type=float, default=30.0, help="TELEGRAM_RATE_LIMIT in production")
    parser.add_argument("--inject-429", type=int, default=3, help="sendMessage calls answered 429 in each run")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or None)
    args = parser.parse_args()
    real_limits = Limits(args.real_rate, args.telegram_rate)
    raised_limits = Limits(args.rate, args.rate * 1.2)
    real = _run(args.sample, real_limits, args.database_url, "real", args.inject_429)
    measured = _run(args.followers, raised_limits, args.database_url, "measured", args.inject_429)
    print(json.dumps({
        "bench": "alerts",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "database": "postgresql" if (args.database_url or "").startswith("postgresql") else "sqlite",
        "real_limit": real,
        "projection_10000_s": round(args.followers / real["messages_per_s"], 1) if real["messages_per_s"] else None,
        "measured": measured,
    }, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
