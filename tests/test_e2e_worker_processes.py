"""Two bot worker *processes* (`python -m bot run --webhook`) share a real PostgreSQL and a Chroma server,
behind nothing but the test delivering each update to one of them — alternately, as a round-robin reverse
proxy would. The same parent's booking flow continues from one process to the other (and survives one
being killed with SIGKILL mid-flow), a policy follow-up keeps the topic across them, and a document staff
publish through the command line (a third process) is answered by both workers within seconds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from bot.settings import KNOWLEDGE_DIR
from db.care.booking import list_bookings
from db.core.engine import make_engine, run_unit
from db.core.migrate import upgrade_to_head
from db.core.timeutil import local_today
from retrieval.service import PolicyService, ServiceOptions
from tests.db_fixtures import fresh_database, make_institution, make_session
from tests.fakes.fixtures import FAKE_TOKEN
from tests.kb_fixtures import SHENZHEN_QUESTION, SHENZHEN_V1

ROOT = Path(__file__).resolve().parent.parent
SECRET = "two-workers-secret"
PARENT, OPERATOR, ASKER = 5151, 5252, 5353
pytestmark = pytest.mark.postgres


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class WorkerProcess:
    """One `python -m bot run --webhook` subprocess; `deliver` POSTs an update to it as Telegram would."""

    def __init__(self, name: str, env: dict, tmp_path: Path) -> None:
        self.name, self.port = name, _free_port()
        self.env = dict(env, DATA_DIR=str(tmp_path / name), WEBHOOK_PORT=str(self.port),
                        TELEGRAM_WEBHOOK_URL=f"https://bot.example.org/{name}/hook")
        self.log_path = tmp_path / f"{name}.log"
        self.hook = f"http://127.0.0.1:{self.port}/{name}/hook"
        self.proc: subprocess.Popen | None = None

    def start(self) -> WorkerProcess:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "run", "--webhook"], cwd=ROOT, env=self.env, stdout=log, stderr=log
            )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"{self.name} exited: {self.output()[-3000:]}"
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{self.name} did not come up: {self.output()[-3000:]}")

    def deliver(self, update: dict) -> None:
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        assert httpx.post(self.hook, json=update, headers=headers, timeout=10).status_code == 200

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return -9

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def wait_for(api, chat_id: int, since: int, predicate=lambda m: True, timeout: float = 60.0):
    """The first message the bot sends or edits in `chat_id` after change `since` that matches."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in sorted((m for m in list(api.sent) if m.seq > since and m.chat_id == chat_id), key=lambda m: m.seq):
            if not message.deleted and predicate(message):
                return message
        time.sleep(0.05)
    recent = [(m.chat_id, (m.text or "")[:60]) for m in list(api.sent)[-5:]]
    raise AssertionError(f"no matching message to {chat_id} within {timeout}s; last: {recent}")


@pytest.fixture
def cluster(tmp_path, fake_bot_api, chroma_server, embedder):
    """PostgreSQL schema + Chroma server with the policy index + two worker processes."""
    host, port = chroma_server
    with fresh_database("postgres", tmp_path) as url:
        engine = make_engine(url)
        upgrade_to_head(engine)
        PolicyService(tmp_path / "builder" / "index", KNOWLEDGE_DIR, embedder=embedder,
                      options=ServiceOptions(chroma_host=host, chroma_port=port)).build()
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("TELEGRAM_", "WEBHOOK_", "DATABASE_", "DB_", "CHROMA_", "KB_"))}
        env.update(
            PYTHONPATH=str(ROOT), DATABASE_URL=url, CHROMA_HOST=host, CHROMA_PORT=str(port), KB_SYNC_SECONDS="1",
            TELEGRAM_BOT_TOKEN=FAKE_TOKEN, TELEGRAM_BASE_URL=fake_bot_api.base_url,
            TELEGRAM_BASE_FILE_URL=fake_bot_api.base_file_url, TELEGRAM_WEBHOOK_SECRET=SECRET,
            WEBHOOK_LISTEN="127.0.0.1", WEBHOOK_REGISTER="false",
        )
        workers = [WorkerProcess(name, env, tmp_path) for name in ("w1", "w2")]
        try:
            for worker in workers:
                worker.start()
            yield engine, workers, env
        finally:
            codes = [worker.stop() for worker in workers]
            engine.dispose()
        for worker, code in zip(workers, codes, strict=True):
            assert code == 0, worker.output()[-3000:]
            assert "Traceback" not in worker.output(), worker.output()[-3000:]


def test_two_worker_processes_share_flows_and_the_knowledge_base(cluster, fake_bot_api, tmp_path):
    engine, (w1, w2), env = cluster
    api = fake_bot_api.api
    api.add_user(OPERATOR)
    centre = make_institution(engine, name="鹭岛托育中心", services=["全日托", "临时托"], operator_user_id=OPERATOR)
    make_session(engine, centre, local_today() + timedelta(days=2), capacity=2, price=120,
                 age_min_months=12, age_max_months=36)

    # A policy question on one process, its follow-up on the other.
    seq = api.seq
    api.user_sends_text(ASKER, "厦门托育从业人员持证上岗有什么要求？")
    w1.deliver(api.updates_log[-1])
    assert "厦门" in wait_for(api, ASKER, seq).text
    seq = api.seq
    api.user_sends_text(ASKER, "那张家港呢？")
    w2.deliver(api.updates_log[-1])
    assert "持证上岗率达100%" in wait_for(api, ASKER, seq, lambda m: "张家港" in (m.text or "")).text

    # The booking flow alternates between the processes, and w1 is killed (SIGKILL) in the middle of it.
    seq = api.seq
    api.user_sends_text(PARENT, "/find")
    w1.deliver(api.updates_log[-1])
    wait_for(api, PARENT, seq, lambda m: "位置" in (m.text or ""))
    seq = api.seq
    api.user_sends_text(PARENT, "思明区")
    w2.deliver(api.updates_log[-1])
    results = wait_for(api, PARENT, seq, lambda m: "鹭岛托育中心" in (m.text or "") and bool(m.buttons))
    seq = api.seq
    api.user_taps_button(PARENT, results.message_id, f"care:inst:{centre}")
    w1.deliver(api.updates_log[-1])
    card = wait_for(api, PARENT, seq, lambda m: any("半天" in t or "09:00" in t for t in m.button_texts))
    w1.kill()
    w1.start()
    seq = api.seq
    api.user_taps_button(PARENT, card.message_id, card.callback_data("09:00"))
    w2.deliver(api.updates_log[-1])
    wait_for(api, PARENT, seq, lambda m: "孩子多大" in (m.text or ""))
    seq = api.seq
    api.user_sends_text(PARENT, "1岁8个月")
    w1.deliver(api.updates_log[-1])  # the restarted process knows what w2 asked for
    confirm = wait_for(api, PARENT, seq, lambda m: "请确认预约" in (m.text or ""))
    seq = api.seq
    api.user_taps_button(PARENT, confirm.message_id, confirm.callback_data("确认"))
    tap = api.updates_log[-1]
    w2.deliver(tap)
    w1.deliver(tap)  # the same tap delivered twice (a retry reaching the other worker)
    wait_for(api, PARENT, seq, lambda m: "预约成功" in (m.text or ""))
    time.sleep(1.0)
    bookings = run_unit(engine, list_bookings, PARENT)
    assert len(bookings) == 1 and bookings[0].child_age_months == 20
    notes = [m for m in api.messages_to(OPERATOR) if bookings[0].code in (m.text or "")]
    assert len(notes) == 1, "the operator was told once"

    # Staff publish a new city's document from the command line; both workers answer from it within seconds.
    source = tmp_path / "shenzhen.txt"
    source.write_text(SHENZHEN_V1, encoding="utf-8")
    cli_env = dict(env, DATA_DIR=str(tmp_path / "cli"))
    published = subprocess.run(
        [sys.executable, "-m", "bot", "kb", "add", str(source), "--no-eval", "--json"], cwd=ROOT, env=cli_env,
        capture_output=True, text=True, timeout=300,
    )
    assert published.returncode == 0, published.stderr[-3000:]
    started = time.monotonic()
    for worker in (w1, w2):
        seq = api.seq
        api.user_sends_text(ASKER, SHENZHEN_QUESTION)
        worker.deliver(api.updates_log[-1])
        answer = wait_for(api, ASKER, seq, lambda m: "深圳" in (m.text or ""))
        while "500元" not in answer.text and time.monotonic() - started < 15:
            time.sleep(1.0)
            seq = api.seq
            api.user_sends_text(ASKER, SHENZHEN_QUESTION)
            worker.deliver(api.updates_log[-1])
            answer = wait_for(api, ASKER, seq, lambda m: "深圳" in (m.text or ""))
        assert "500元" in answer.text, f"{worker.name} did not pick up the published document: {answer.text}"
    assert time.monotonic() - started < 15
