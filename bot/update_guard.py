"""The Application every mode runs (polling, webhook, console): it cleans each update before any handler
sees it, so no handler, log line, database write or reply has to cope with text Python cannot encode."""

from __future__ import annotations

import re
from typing import Any

from telegram import Update
from telegram.ext import Application

_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def _has_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return _LONE_SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_surrogate(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_surrogate(v) for v in value)
    return False


def _replace_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return _LONE_SURROGATE.sub(REPLACEMENT, value)
    if isinstance(value, dict):
        return {k: _replace_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_surrogates(v) for v in value]
    return value


def clean_update(update: object, bot: Any) -> object:
    """`update` with every lone UTF-16 surrogate (sent by a broken client; JSON allows it, UTF-8 does not)
    replaced by U+FFFD; the same object when there is none."""
    if not isinstance(update, Update):
        return update
    data = update.to_dict()
    if not _has_surrogate(data):
        return update
    return Update.de_json(_replace_surrogates(data), bot)


class GuardedApplication(Application):
    """python-telegram-bot's Application, cleaning each update first (see `clean_update`)."""

    async def process_update(self, update: object) -> None:
        """Clean the update, then dispatch it as usual."""
        await super().process_update(clean_update(update, self.bot))
