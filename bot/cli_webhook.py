"""`python -m bot webhook set|delete|info`: register the webhook once for N workers (docs/deploy.md)."""

from __future__ import annotations

import argparse
import asyncio
import json

from bot.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Register the `webhook` command."""
    webhook = subparsers.add_parser("webhook", help="set, delete or show the Telegram webhook")
    webhook.add_argument("action", choices=["set", "delete", "info"])
    webhook.add_argument("--drop-pending", action="store_true", help="drop updates Telegram still holds")
    webhook.set_defaults(func=cmd_webhook)


async def _call(settings: Settings, action: str, drop_pending: bool) -> dict:
    from telegram import Bot, Update

    from bot.webhook import check_webhook_settings

    kwargs = {}
    if settings.telegram_base_url:
        kwargs["base_url"] = settings.telegram_base_url
    async with Bot(settings.telegram_bot_token, **kwargs) as bot:
        if action == "set":
            check_webhook_settings(settings)
            ok = await bot.set_webhook(
                url=settings.telegram_webhook_url, secret_token=settings.telegram_webhook_secret,
                allowed_updates=Update.ALL_TYPES, max_connections=settings.webhook_max_connections,
                drop_pending_updates=drop_pending,
            )
            return {"ok": ok}
        if action == "delete":
            return {"ok": await bot.delete_webhook(drop_pending_updates=drop_pending)}
        info = await bot.get_webhook_info()
        return {"url": info.url, "pending_update_count": info.pending_update_count,
                "last_error_message": info.last_error_message, "max_connections": info.max_connections}


def cmd_webhook(args: argparse.Namespace, settings: Settings) -> int:
    """Run one webhook action and print its JSON result."""
    if not settings.telegram_bot_token:
        print(json.dumps({"error": "TELEGRAM_BOT_TOKEN is not set"}))
        return 2
    try:
        result = asyncio.run(_call(settings, args.action, args.drop_pending))
    except Exception as exc:  # noqa: BLE001 - reported as JSON, exit code 1
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}, ensure_ascii=False))
        return 1
    print(json.dumps(result, ensure_ascii=False))
    return 0
