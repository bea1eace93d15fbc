"""/start, /help, /lang, unknown commands, unsupported messages and the error handler."""

from __future__ import annotations

import contextlib
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.callbacks import CallbackCodec, CallbackError, Decoded
from bot.context import BotContext
from bot.handlers.alerts_views import settings_row
from bot.runtime import load_user_language
from bot.state import current_prefetch
from bot.texts import t
from db.accounts import users
from db.core.engine import is_database_unavailable

log = logging.getLogger(__name__)

ROLE_CODEC = CallbackCodec("role")  # role:parent, role:operator
for _role in ("parent", "operator"):
    ROLE_CODEC.action(_role)
LANG_CODEC = CallbackCodec("lang")  # lang:zh, lang:en
for _lang in users.SUPPORTED_LANGUAGES:
    LANG_CODEC.action(_lang)


async def screen_update(update: object, context: BotContext) -> None:
    """Runs before every handler. Updates nobody could be answered for in a private conversation stop here:
    channel posts and other updates without a user, edited messages (the original was answered), and taps on
    buttons whose message is gone or inaccessible (every flow edits or replies to that message)."""
    if not isinstance(update, Update):
        raise ApplicationHandlerStop
    if update.effective_user is None or update.edited_message is not None:
        log.info("update %s ignored: no user or an edit", update.update_id)
        raise ApplicationHandlerStop
    await load_user_language(update, context)
    query = update.callback_query
    if query is not None and (query.message is None or not query.message.is_accessible):
        await query.answer(t("stale_button", context.language))
        raise ApplicationHandlerStop


async def start(update: Update, context: BotContext) -> None:
    """Greet, say what the bot can do, ask whether the user is a parent or an operator."""
    user = update.effective_user
    holder = current_prefetch()  # the update's first read already saw whether the user has a row
    if holder is None or holder.user_id != user.id or not holder.user_known:
        await context.db(users.ensure_user, user.id, user.full_name or "")
    lang = context.language
    keyboard = InlineKeyboardMarkup(
        [[
            InlineKeyboardButton(t("btn_parent", lang), callback_data=ROLE_CODEC.encode("parent")),
            InlineKeyboardButton(t("btn_operator", lang), callback_data=ROLE_CODEC.encode("operator")),
        ], *_settings_rows(update, lang)]
    )
    await update.effective_message.reply_text(t("start", lang), reply_markup=keyboard)


def _settings_rows(update: Update, lang: str) -> list[list[InlineKeyboardButton]]:
    """The /start settings entries (policy-update alerts), in private chats."""
    if update.effective_chat is None or update.effective_chat.type != ChatType.PRIVATE:
        return []
    return [settings_row(lang)]


async def choose_role(update: Update, context: BotContext) -> None:
    """Remember parent/operator and suggest the next step."""
    query = update.callback_query
    lang = context.language
    try:
        kind = ROLE_CODEC.decode(query.data).action
    except CallbackError:
        await query.answer(t("stale_button", lang))
        return
    await query.answer()
    await context.db(users.set_kind, update.effective_user.id, kind)
    keyboard = None
    if kind == "operator":  # the filing guide's own button (bot/handlers/filing.py handles "fl:go")
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(t("fl_btn_start", lang), callback_data="fl:go")]])
    await query.message.reply_text(t(f"role_{kind}", lang), reply_markup=keyboard)


async def help_command(update: Update, context: BotContext) -> None:
    """Explain commands and how to ask."""
    await update.effective_message.reply_text(t("help", context.language))


async def lang_command(update: Update, context: BotContext) -> None:
    """Offer 中文 / English."""
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton("中文", callback_data=LANG_CODEC.encode("zh")),
          InlineKeyboardButton("English", callback_data=LANG_CODEC.encode("en"))]]
    )
    await update.effective_message.reply_text(t("lang_choose", context.language), reply_markup=keyboard)


async def choose_language(update: Update, context: BotContext) -> None:
    """Store the chosen language."""
    query = update.callback_query
    try:
        lang = LANG_CODEC.decode(query.data).action
    except CallbackError:
        await query.answer(t("stale_button", context.language))
        return
    await context.db(users.set_language, update.effective_user.id, lang)
    context.user_data["lang"] = lang
    await query.answer()
    await query.edit_message_text(t("lang_set", lang))


async def require_private_chat(update: Update, context: BotContext) -> bool:
    """True in a private chat. Elsewhere (a group, a channel) answer with a link to the private chat and
    return False, so personal data (bookings, a child's age, filing materials) is never posted to a group."""
    chat = update.effective_chat
    if chat is not None and chat.type == ChatType.PRIVATE:
        return True
    lang = context.language
    try:
        username = context.bot.username
    except RuntimeError:  # the bot was not initialised (get_me not called): no link, the text still says why
        username = None
    keyboard = None
    if username:
        keyboard = InlineKeyboardMarkup(
            [[InlineKeyboardButton(t("btn_open_private", lang), url=f"https://t.me/{username}")]]
        )
    if update.callback_query is not None:
        await update.callback_query.answer(t("private_only", lang), show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(t("private_only", lang), reply_markup=keyboard)
    return False


async def answer_quietly(update: Update, text: str | None = None, *, alert: bool = False) -> None:
    """Answer the tap (when the update is one); a tap already answered, or too old, is left as it is."""
    query = update.callback_query
    if query is None:
        return
    with contextlib.suppress(TelegramError):
        await query.answer(text, show_alert=alert)


async def decode_button(update: Update, context: BotContext, codec: CallbackCodec) -> Decoded | None:
    """A tap's data decoded by `codec`, or None once the tap was answered: forged or stale data and buttons of
    inline messages get "stale button" (nothing else happens), taps outside a private chat the private-chat
    link (`require_private_chat`)."""
    query = update.callback_query
    try:
        decoded = codec.decode(query.data)
    except CallbackError:
        await answer_quietly(update, t("stale_button", context.language))
        return None
    if query.message is None or update.effective_user is None:  # e.g. a button of an inline message
        await answer_quietly(update, t("stale_button", context.language))
        return None
    if not await require_private_chat(update, context):
        return None
    return decoded


async def coming_soon(update: Update, context: BotContext) -> None:
    """A menu command whose flow is not built yet."""
    await update.effective_message.reply_text(t("coming_soon", context.language))


async def unknown_command(update: Update, context: BotContext) -> None:
    """Any command we do not know."""
    await update.effective_message.reply_text(t("unknown_command", context.language))


async def unsupported_message(update: Update, context: BotContext) -> None:
    """Stickers, voice, files outside a flow…"""
    await update.effective_message.reply_text(t("unsupported_message", context.language))


async def stale_callback(update: Update, context: BotContext) -> None:
    """A button whose data no handler understands (an old keyboard from an earlier version)."""
    await update.callback_query.answer(t("stale_button", context.language), show_alert=False)


async def on_error(update: object, context: BotContext) -> None:
    """Log the error; tell the user politely, never with the exception text.

    A database that is busy, slow or away gets a short "busy, please try again" (logged without a stack
    trace: it is an outage, not a bug); the next update tries the database again by itself.
    """
    db_down = is_database_unavailable(context.error)
    if db_down:
        log.warning("Database unavailable while handling an update: %s", type(context.error).__name__)
    else:
        log.error("Unhandled error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        lang = context.language  # from memory: never asks the database that may have failed
        try:
            if update.callback_query is not None:
                await update.callback_query.answer()
            await context.bot.send_message(update.effective_chat.id, t("db_busy" if db_down else "error", lang))
        except Exception:
            log.exception("Could not tell the user about the error")
