"""Webhook mode end to end: `python -m bot run --webhook` as a real subprocess against the fake Bot API over
HTTP. Updates POSTed without the secret header get 401, with a wrong one 403, and produce no reply; with
the right one the reply arrives at the fake API. Plus the worker's settings checks and the
`WEBHOOK_REGISTER=false` mode, in-process."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.app import build_application
from bot.settings import Settings
from bot.webhook import WebhookConfigError, check_webhook_settings, serve_webhook
from tests.fakes.fixtures import FAKE_TOKEN

ROOT = Path(__file__).resolve().parent.parent
SECRET = "s3cret_Token-for-tests"
USER = 4242


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(base: str, proc: subprocess.Popen | None, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the worker exited early with {proc.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("the webhook worker did not come up")


def _wait_for_messages(api, user_id: int, count: int, timeout: float = 10.0) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = api.messages_to(user_id)
        if len(messages) >= count:
            return messages
        time.sleep(0.05)
    return api.messages_to(user_id)


@pytest.fixture
def worker_env(tmp_path, built_policy_index, fake_bot_api):
    """Environment for a worker subprocess: its own data directory holding a copy of the built index."""
    data = tmp_path / "data"
    shutil.copytree(built_policy_index, data / "index")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_", "DATABASE_", "DB_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        DATA_DIR=str(data),
        TELEGRAM_BOT_TOKEN=FAKE_TOKEN,
        TELEGRAM_BASE_URL=fake_bot_api.base_url,
        TELEGRAM_BASE_FILE_URL=fake_bot_api.base_file_url,
        TELEGRAM_WEBHOOK_URL=f"https://bot.example.org/tg/{port}/hook",
        TELEGRAM_WEBHOOK_SECRET=SECRET,
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
        WEBHOOK_REGISTER="true",
    )
    return env, port


def test_webhook_worker_subprocess(worker_env, fake_bot_api, tmp_path):
    env, port = worker_env
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--webhook"], cwd=tmp_path, env=env, stdout=log, stderr=log
        )
    base = f"http://127.0.0.1:{port}"
    hook = f"{base}/tg/{port}/hook"
    api = fake_bot_api.api
    try:
        _wait_healthy(base, proc)
        assert fake_bot_api.webhook.get("url") == env["TELEGRAM_WEBHOOK_URL"]  # WEBHOOK_REGISTER=true
        assert fake_bot_api.webhook.get("secret_token") == SECRET

        api.user_sends_text(USER, "/start")
        update = api.updates_log[-1]
        assert httpx.post(hook, json=update, timeout=5).status_code == 401
        wrong = {"X-Telegram-Bot-Api-Secret-Token": "not-the-secret"}
        assert httpx.post(hook, json=update, headers=wrong, timeout=5).status_code == 403
        assert httpx.get(hook, timeout=5).status_code == 405
        right = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        assert httpx.post(f"{base}/elsewhere", json=update, headers=right, timeout=5).status_code == 404
        time.sleep(0.5)
        assert api.messages_to(USER) == []  # refused updates were not handled

        assert httpx.post(hook, json=update, headers=right, timeout=5).status_code == 200
        replies = _wait_for_messages(api, USER, 1)
        assert len(replies) == 1 and "托育助手" in replies[0].text
        assert replies[0].button_texts  # the parent/operator choice

        api.user_sends_text(USER, "/help")
        assert httpx.post(hook, json=api.updates_log[-1], headers=right, timeout=5).status_code == 200
        replies = _wait_for_messages(api, USER, 2)
        assert len(replies) == 2 and "/find" in replies[1].text
        bad = httpx.post(hook, content=b"{not json", headers={**right, "Content-Type": "application/json"}, timeout=5)
        assert bad.status_code == 400
        assert httpx.post(hook, json=None, headers=right, timeout=5).status_code == 400
        assert httpx.post(hook, json=[update], headers=right, timeout=5).status_code == 400
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
    output = log_path.read_text(errors="replace")
    assert code == 0, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    assert SECRET not in output  # the secret is never logged


def test_webhook_settings_are_checked(settings):
    settings.telegram_bot_token = FAKE_TOKEN
    with pytest.raises(WebhookConfigError, match="TELEGRAM_WEBHOOK_URL"):
        check_webhook_settings(settings)
    settings.telegram_webhook_url = "https://bot.example.org/hook"
    with pytest.raises(WebhookConfigError, match="SECRET"):
        check_webhook_settings(settings)
    settings.telegram_webhook_secret = "has spaces"
    with pytest.raises(WebhookConfigError, match="SECRET"):
        check_webhook_settings(settings)
    settings.telegram_webhook_secret = SECRET
    check_webhook_settings(settings)
    assert settings.webhook_path == "/hook"
    assert Settings(_env_file=None, telegram_webhook_url="https://x.example").webhook_path == "/"


async def test_worker_without_registering(settings, fake_bot_api):
    """WEBHOOK_REGISTER=false (the other N-1 workers): no setWebhook, updates still served."""
    port = _free_port()
    settings.telegram_base_url = fake_bot_api.base_url
    settings.telegram_base_file_url = fake_bot_api.base_file_url
    settings.telegram_bot_token = FAKE_TOKEN
    settings.telegram_webhook_url = "https://bot.example.org/w2"
    settings.telegram_webhook_secret = SECRET
    settings.webhook_port = port
    settings.webhook_register = False
    app = build_application(settings, policy_service=object(), with_updater=False)
    stop = asyncio.Event()
    worker = asyncio.create_task(serve_webhook(app, settings, stop))
    api = fake_bot_api.api
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            for _ in range(100):
                try:
                    if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.05)
            api.user_sends_text(USER + 1, "/help")
            response = await client.post(
                f"http://127.0.0.1:{port}/w2", json=api.updates_log[-1],
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            )
            assert response.status_code == 200
            reply = await api.wait_for_bot(lambda m: m.chat_id == USER + 1, timeout=10)
            assert "/find" in reply.text
    finally:
        stop.set()
        await asyncio.wait_for(worker, 15)
    assert fake_bot_api.webhook == {}
    assert not [name for name, _ in api.calls if name.lower() == "setwebhook"]


def test_webhook_cli_sets_shows_and_deletes(settings, fake_bot_api, capsys):
    """`python -m bot webhook set|info|delete`: registering once for N workers."""
    import argparse
    import json

    from bot.cli_webhook import cmd_webhook

    settings.telegram_bot_token = FAKE_TOKEN
    settings.telegram_base_url = fake_bot_api.base_url
    settings.telegram_webhook_url = "https://bot.example.org/tg/hook"
    settings.telegram_webhook_secret = SECRET
    assert cmd_webhook(argparse.Namespace(action="set", drop_pending=False), settings) == 0
    assert json.loads(capsys.readouterr().out) == {"ok": True}
    assert fake_bot_api.webhook["url"] == "https://bot.example.org/tg/hook"
    assert fake_bot_api.webhook["secret_token"] == SECRET
    assert cmd_webhook(argparse.Namespace(action="info", drop_pending=False), settings) == 0
    assert "pending_update_count" in json.loads(capsys.readouterr().out)
    assert cmd_webhook(argparse.Namespace(action="delete", drop_pending=False), settings) == 0
    assert fake_bot_api.webhook == {}


def test_run_jobs_false_means_no_reminder_job(settings):
    settings.run_jobs = False
    with pytest.warns(UserWarning, match="JobQueue"):  # PTB's note when asked for a job queue it lacks
        assert build_application(settings, policy_service=object()).job_queue is None
    settings.run_jobs = True
    assert build_application(settings, policy_service=object()).job_queue is not None


def test_run_webhook_without_a_secret_refuses_to_start(settings, capsys):
    """`python -m bot run --webhook` with no TELEGRAM_WEBHOOK_SECRET: exit code 2 and why, nothing served."""
    import argparse

    from bot.cli_policy import cmd_run

    settings.telegram_bot_token = FAKE_TOKEN
    settings.telegram_webhook_url = "https://bot.example.org/hook"
    assert cmd_run(argparse.Namespace(webhook=True), settings) == 2
    assert "TELEGRAM_WEBHOOK_SECRET" in capsys.readouterr().err
