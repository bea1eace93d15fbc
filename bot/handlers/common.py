"""/start, /help, /lang, unknown commands, unsupported messages and the error handler."""

from __future__ import annotations

import asyncio
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.runtime import runtime, user_language
from bot.texts import t
from db import users

log = logging.getLogger(__name__)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet, say what the bot can do, ask whether the user is a parent or an operator."""
    user = update.effective_user
    await asyncio.to_thread(users.get_or_create_user, runtime(context).engine, user.id, user.full_name or "")
    lang = user_language(update, context)
    keyboard = InlineKeyboardMarkup(
        [[
            InlineKeyboardButton(t("btn_parent", lang), callback_data="role:parent"),
            InlineKeyboardButton(t("btn_operator", lang), callback_data="role:operator"),
        ]]
    )
    await update.effective_message.reply_text(t("start", lang), parse_mode=ParseMode.HTML, reply_markup=keyboard)


async def choose_role(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Remember parent/operator and suggest the next step."""
    query = update.callback_query
    kind = query.data.split(":", 1)[1]
    lang = user_language(update, context)
    if kind not in ("parent", "operator"):
        await query.answer(t("stale_button", lang))
        return
    await query.answer()
    await asyncio.to_thread(users.set_kind, runtime(context).engine, update.effective_user.id, kind)
    keyboard = None
    if kind == "operator":  # the filing guide's own button (bot/handlers/filing.py handles "fl:go")
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(t("fl_btn_start", lang), callback_data="fl:go")]])
    await query.message.reply_text(t(f"role_{kind}", lang), reply_markup=keyboard)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Explain commands and how to ask."""
    await update.effective_message.reply_text(t("help", user_language(update, context)), parse_mode=ParseMode.HTML)


async def lang_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Offer 中文 / English."""
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton("中文", callback_data="lang:zh"), InlineKeyboardButton("English", callback_data="lang:en")]]
    )
    await update.effective_message.reply_text(t("lang_choose", user_language(update, context)), reply_markup=keyboard)


async def choose_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Store the chosen language."""
    query = update.callback_query
    lang = query.data.split(":", 1)[1]
    if lang not in users.SUPPORTED_LANGUAGES:
        await query.answer(t("stale_button", user_language(update, context)))
        return
    await asyncio.to_thread(users.set_language, runtime(context).engine, update.effective_user.id, lang)
    context.user_data["lang"] = lang
    await query.answer()
    await query.edit_message_text(t("lang_set", lang))


async def coming_soon(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A menu command whose flow is not built yet."""
    await update.effective_message.reply_text(t("coming_soon", user_language(update, context)))


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any command we do not know."""
    await update.effective_message.reply_text(t("unknown_command", user_language(update, context)))


async def unsupported_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, voice, files outside a flow…"""
    await update.effective_message.reply_text(t("unsupported_message", user_language(update, context)))


async def stale_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button whose data no handler understands (an old keyboard from an earlier version)."""
    await update.callback_query.answer(t("stale_button", user_language(update, context)), show_alert=False)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error; tell the user politely, never with the exception text.

    A database that is busy, slow or away gets a short "busy, please try again" (logged without a stack
    trace: it is an outage, not a bug); the next update tries the database again by itself.
    """
    from db.engine import is_database_unavailable

    db_down = is_database_unavailable(context.error)
    if db_down:
        log.warning("Database unavailable while handling an update: %s", type(context.error).__name__)
    else:
        log.error("Unhandled error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        if db_down:  # do not ask the database that just failed for the user's language
            lang = (context.user_data or {}).get("lang") or (
                "en" if ((update.effective_user and update.effective_user.language_code) or "").startswith("en")
                else "zh"
            )
        else:
            try:
                lang = user_language(update, context)
            except Exception:  # the database itself may be what failed
                lang = "zh"
        try:
            if update.callback_query is not None:
                await update.callback_query.answer()
            await context.bot.send_message(update.effective_chat.id, t("db_busy" if db_down else "error", lang))
        except Exception:
            log.exception("Could not tell the user about the error")
