"""Load benchmark: N users write at the same instant; how long until each gets its first reply?

The real bot runs as a subprocess (`python -m bot run`, long polling, or `python -m bot run --webhook`)
against the fake Bot API over HTTP (tests/fakes/bot_api_server.py) in this process. Each round injects N
updates at once — a third policy questions (from the dev set), a third shared locations (around the demo
districts), a third /start — from N fresh users, and times each user's first reply from the moment
their update was queued. Prints one JSON object.

Run: `python -m bench.load_bench [--users 100 300 1000] [--rate-limit 30] [--mode polling|webhook]`.
The data directory (default `data/bench-load`) keeps the policy index and the demo institutions between
runs; the first run builds them (`python -m bot index`, `python -m bot institutions demo`).

Targets (issue #10): 100 users p95 < 0.5 s; 300 users p95 < 1.5 s, all answered; 1,000 users all
answered, p95 < 5 s, no error. Note that TELEGRAM_RATE_LIMIT (default 30 messages/s, Telegram's
documented overall limit) by itself puts the k-th reply of a burst at about (k - 30) / 30 s; run with
`--rate-limit 0` to measure the bot without that cap (the fake API enforces none).

Each round reports the bot's CPU per update and, separately, this process's (the fake API): both share the
machine, so a high `bench_cpu_ms_per_update` slows the bot's replies too. (The fake API answers one request
per connection, HTTP/1.0; a kept-alive variant measured no cheaper for the bot.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bot.local_api import LocalBotApi
from bot.texts import t
from tests.fakes.bot_api_server import FakeBotApiServer

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123:BENCH"
SECRET = "bench_secret"
SEND_METHODS = {"sendmessage", "senddocument", "sendphoto", "sendlocation", "sendvenue"}
LOCATIONS = [(24.4620, 118.1180), (24.5130, 118.1470), (24.4798, 118.0894), (31.8750, 120.5550), (31.9000, 120.6000)]
ERROR_TEXTS = {t(key, lang) for key in ("error", "db_busy", "busy_loading") for lang in ("zh", "en")}


class TimedApi(LocalBotApi):
    """The in-memory Bot API, noting when each chat got its first message from the bot."""

    def __init__(self, latency_s: float = 0.0) -> None:
        super().__init__()
        self.latency_s = latency_s  # added to every bot call but getUpdates: the network to Telegram
        self.first_reply: dict[int, float] = {}
        self.first_text: dict[int, str | None] = {}

    async def call(self, method: str, params: dict[str, Any] | None = None, files: dict | None = None) -> Any:
        if self.latency_s and method.lower() != "getupdates":
            await asyncio.sleep(self.latency_s)
        result = await super().call(method, params, files)
        if method.lower() in SEND_METHODS and isinstance(result, dict):
            chat_id = result.get("chat", {}).get("id")
            now = time.monotonic()
            with self._lock:
                if chat_id not in self.first_reply:
                    self.first_reply[chat_id] = now
                    self.first_text[chat_id] = result.get("text")
        return result


def own_cpu_seconds() -> float:
    """User + system CPU time used so far by this process (the fake API and the bench)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def _questions() -> list[str]:
    path = ROOT / "knowledge" / "eval" / "policy_qa_dev.jsonl"
    return [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_data(data_dir: Path, env: dict[str, str]) -> None:
    """Build the policy index and the demo institutions once (kept between runs)."""
    marker = data_dir / ".bench-ready"
    if marker.exists():
        return
    for command in (["index"], ["institutions", "demo"]):
        subprocess.run([sys.executable, "-m", "bot", *command], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)
    marker.write_text("ok")


class WebhookPusher:
    """Plays Telegram plus a round-robin reverse proxy in webhook mode: takes queued updates from the fake
    API and POSTs them, with the secret header, to the workers in turn (up to `connections` at a time)."""

    def __init__(self, api: LocalBotApi, urls: list[str], connections: int = 40):
        self.api, self.urls, self.connections = api, urls, connections
        self._next = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="webhook-pusher")
        self.failures = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        asyncio.run(self._loop())

    async def _loop(self) -> None:
        offset = 0
        limits = httpx.Limits(max_connections=self.connections)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:
            while not self._stop.is_set():
                updates = await self.api.call("getUpdates", {"offset": offset, "timeout": 0.2})
                if not updates:
                    continue
                offset = updates[-1]["update_id"] + 1

                async def post(update: dict, url: str) -> None:
                    try:
                        response = await client.post(
                            url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
                        )
                        if response.status_code != 200:
                            self.failures += 1
                    except httpx.HTTPError:
                        self.failures += 1

                targets = []
                for _ in updates:
                    targets.append(self.urls[self._next % len(self.urls)])
                    self._next += 1
                await asyncio.gather(*(post(u, url) for u, url in zip(updates, targets, strict=True)))


def start_bot(args: argparse.Namespace, server: FakeBotApiServer, data_dir: Path):
    """The real bot as subprocess(es): one long-polling process, or `--workers` webhook workers fed by a
    `WebhookPusher`. Returns (processes, pusher or None)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_"))}
    env.update(
        PYTHONPATH=str(args.bot_root), DATA_DIR=str(data_dir), TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_BASE_URL=server.base_url, TELEGRAM_BASE_FILE_URL=server.base_file_url,
        TELEGRAM_RATE_LIMIT=str(args.rate_limit), CONCURRENT_UPDATES=str(args.concurrency),
    )
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    prepare_data(data_dir, env)
    if args.mode == "polling":
        log = (data_dir / "bot.log").open("wb")
        command = [sys.executable, "-m", "bot", "run"]
        return [subprocess.Popen(command, cwd=args.bot_root, env=env, stdout=log, stderr=log)], None
    processes, urls = [], []
    for i in range(args.workers):
        port = _free_port()
        url = f"http://127.0.0.1:{port}/hook"
        worker_env = {**env, "TELEGRAM_WEBHOOK_URL": url, "TELEGRAM_WEBHOOK_SECRET": SECRET,
                      "WEBHOOK_PORT": str(port), "WEBHOOK_REGISTER": "false"}
        log = (data_dir / f"worker{i}.log").open("wb")
        processes.append(subprocess.Popen([sys.executable, "-m", "bot", "run", "--webhook"], cwd=args.bot_root,
                                          env=worker_env, stdout=log, stderr=log))
        urls.append(url)
    for url in urls:  # deliver nothing before every worker listens
        health = url.rsplit("/", 1)[0] + "/healthz"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(health, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
    pusher = WebhookPusher(server.api, urls)
    pusher.start()
    return processes, pusher


def wait_ready(api: TimedApi, processes: list[subprocess.Popen], timeout: float = 300.0) -> float:
    """Ask policy questions until answered from the loaded knowledge base (by every worker: a few answers
    in a row); returns seconds waited."""
    started = time.monotonic()
    probe, good = 1, 0
    while time.monotonic() - started < timeout:
        if any(proc.poll() is not None for proc in processes):
            raise SystemExit("the bot exited while starting")
        api.user_sends_text(probe, "厦门每年新增多少个普惠托位？")
        deadline = time.monotonic() + 65
        while probe not in api.first_reply and time.monotonic() < deadline:
            time.sleep(0.1)
        if api.first_text.get(probe) not in ERROR_TEXTS and probe in api.first_reply:
            good += 1
            if good >= 2 * len(processes):
                return time.monotonic() - started
        else:
            good = 0
            time.sleep(1)
        probe += 1
    raise SystemExit("the bot did not become ready")


def cpu_seconds(processes: list[subprocess.Popen]) -> float:
    """User + system CPU time used so far by the bot processes (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for proc in processes:
        try:
            fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            pass
    return total


def run_round(api: TimedApi, users: range, questions: list[str], timeout: float,
              kinds: tuple[str, ...] = ("question", "location", "start")) -> dict:
    """Inject one update from each of `users` (fresh ones) at once and time their first replies."""
    n = len(users)
    rng = random.Random(n)
    sent_at: dict[int, float] = {}
    kind_of: dict[int, str] = {}
    for i, uid in enumerate(users):
        kind = kinds[i % len(kinds)]
        if kind == "question":
            api.user_sends_text(uid, rng.choice(questions))
            kind_of[uid] = "question"
        elif kind == "location":
            lat, lon = rng.choice(LOCATIONS)
            api.user_shares_location(uid, lat + rng.uniform(-0.01, 0.01), lon + rng.uniform(-0.01, 0.01))
            kind_of[uid] = "location"
        else:
            api.user_sends_text(uid, "/start")
            kind_of[uid] = "start"
        sent_at[uid] = time.monotonic()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not all(uid in api.first_reply for uid in users):
        time.sleep(0.05)
    latencies = [api.first_reply[uid] - sent_at[uid] for uid in users if uid in api.first_reply]
    errors = sum(1 for uid in users if api.first_text.get(uid) in ERROR_TEXTS)
    unanswered = sum(1 for uid in users if uid not in api.first_reply)
    result: dict[str, Any] = {
        "users": n, "answered": len(latencies), "unanswered": unanswered, "error_replies": errors,
    }
    if latencies:
        result.update(
            p50_s=round(pct(latencies, 0.50), 3), p95_s=round(pct(latencies, 0.95), 3),
            max_s=round(max(latencies), 3),
        )
    by_kind: dict[str, dict[str, Any]] = {}
    for kind in kinds:
        own = [api.first_reply[u] - sent_at[u] for u in users if kind_of[u] == kind and u in api.first_reply]
        by_kind[kind] = {"n": sum(1 for u in users if kind_of[u] == kind)}
        if own:
            by_kind[kind].update(p50_s=round(pct(own, 0.5), 3), p95_s=round(pct(own, 0.95), 3))
    result["by_kind"] = by_kind
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the rounds and print the JSON report."""
    parser = argparse.ArgumentParser(prog="python -m bench.load_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--mode", choices=["polling", "webhook"], default="polling")
    parser.add_argument("--workers", type=int, default=1, help="webhook workers (with --mode webhook)")
    parser.add_argument("--rate-limit", type=float, default=30.0, help="TELEGRAM_RATE_LIMIT for the bot (0: none)")
    parser.add_argument("--concurrency", type=int, default=64, help="CONCURRENT_UPDATES for the bot")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "data" / "bench-load")
    parser.add_argument("--database-url", default="", help="DATABASE_URL (default: SQLite in the data dir)")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for a round's replies")
    parser.add_argument("--fresh", action="store_true", help="delete the data directory first")
    parser.add_argument("--api-latency-ms", type=float, default=0.0,
                        help="delay the fake Bot API adds to each call, like the network to Telegram")
    parser.add_argument("--bot-root", type=Path, default=ROOT,
                        help="checkout whose bot to run (e.g. an older commit exported with git archive, to compare)")
    parser.add_argument("--kinds", default="question,location,start",
                        help="comma-separated mix of update kinds, in turn (question, location, start)")
    args = parser.parse_args(argv)
    if args.fresh and args.data_dir.exists():
        shutil.rmtree(args.data_dir)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    api = TimedApi(args.api_latency_ms / 1000)
    questions = _questions()
    report: dict[str, Any] = {
        "bench": "load", "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "cpus": os.cpu_count(),
        "python": platform.python_version(), "mode": args.mode, "rate_limit_per_s": args.rate_limit,
        "api_latency_ms": args.api_latency_ms,
        "concurrent_updates": args.concurrency, "database": "postgresql" if args.database_url else "sqlite",
        "workers": args.workers if args.mode == "webhook" else 1, "bot_root": str(args.bot_root), "loadavg_before": os.getloadavg(),
        "rounds": [],
    }
    with FakeBotApiServer(api) as server:
        processes, pusher = start_bot(args, server, args.data_dir)
        try:
            report["ready_after_s"] = round(wait_ready(api, processes), 1)
            first_user = 1_000_000
            for n in args.users:
                time.sleep(2)  # let the previous round settle
                kinds = tuple(k for k in args.kinds.split(",") if k)
                cpu_before, own_before = cpu_seconds(processes), own_cpu_seconds()
                result = run_round(api, range(first_user, first_user + n), questions, args.timeout, kinds)
                result["bot_cpu_ms_per_update"] = round((cpu_seconds(processes) - cpu_before) * 1000 / n, 1)
                result["bench_cpu_ms_per_update"] = round((own_cpu_seconds() - own_before) * 1000 / n, 1)
                report["rounds"].append(result)
                first_user += n
            if pusher is not None:
                report["webhook_post_failures"] = pusher.failures
        finally:
            if pusher is not None:
                pusher.stop()
            for proc in processes:
                proc.send_signal(signal.SIGTERM)
            for proc in processes:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
    report["loadavg_after"] = os.getloadavg()
    targets = {100: 0.5, 300: 1.5, 1000: 5.0}
    for r in report["rounds"]:
        if r["users"] in targets and "p95_s" in r:
            r["target_p95_s"] = targets[r["users"]]
            r["meets_target"] = r["p95_s"] < targets[r["users"]] and r["unanswered"] == 0 and r["error_replies"] == 0
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
