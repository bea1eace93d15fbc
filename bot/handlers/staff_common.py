"""What every staff handler shares: the server-side role checks, the `KnowledgeBase` over the running policy
service, sending (long texts split), answering taps, and the screens more than one handler shows (the /kb list,
a document's card, a draft's preview)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import InlineKeyboardMarkup, Update

from bot.alert_messages import preview_for_draft
from bot.context import BotContext
from bot.handlers import staff_views as views
from bot.render import split_message
from bot.texts import t
from db.accounts import roles
from db.core.audit import Actor
from db.knowledge import registry
from knowledge.admin import KnowledgeBase

log = logging.getLogger(__name__)

POLICY_WAIT_SECONDS = 60
FLOW = "kb"  # the bot.state flow name (keys: see bot.handlers.staff)


def actor(update: Update) -> Actor:
    """Who acts in this update, as the audit log names them."""
    return Actor(telegram_id=update.effective_user.id)


def refusal(needed: str) -> str:
    """The text key of the refusal for an action that needs the role `needed`."""
    return "kb_refused_admin" if needed == roles.ADMIN else "kb_refused"


# --- Role checks ------------------------------------------------------------------------------------------


async def is_staff(update: Update, context: BotContext) -> bool:
    """True for staff and admins (no logging: for deciding who a message belongs to)."""
    user = update.effective_user
    if user is None:
        return False
    return await context.db(roles.has_role, user.id, roles.STAFF, admin_ids=context.runtime.settings.admin_ids)


async def check_role(
    update: Update,
    context: BotContext,
    *allowed: str,
    action: str,
    refusal: str = "kb_refused",
) -> bool:
    """Server-side role check for a command or button: True when allowed; otherwise the user gets a polite
    refusal and the attempt is logged and recorded in the audit log (the check is its own unit of work, so the
    `denied` entry is kept). Usable by any flow's handlers."""
    admin_ids = context.runtime.settings.admin_ids
    user_id = update.effective_user.id
    if await context.db(roles.authorize, user_id, *allowed, admin_ids=admin_ids, action=action) is not None:
        return True
    lang = context.language
    if update.callback_query is not None:
        await update.callback_query.answer(t(refusal, lang), show_alert=True)
    else:
        await update.effective_message.reply_text(t(refusal, lang))
    return False


async def knowledge_base(update: Update, context: BotContext) -> KnowledgeBase | None:
    """The `KnowledgeBase` over the running policy service (None, after telling the user, while loading)."""
    rt = context.runtime
    if not rt.policy_ready.is_set():
        try:
            await asyncio.wait_for(rt.policy_ready.wait(), timeout=POLICY_WAIT_SECONDS)
        except TimeoutError:
            await update.effective_message.reply_text(t("kb_loading", context.language))
            return None
    kb = context.application.bot_data.get("knowledge_base")
    if kb is None or kb.service is not rt.policy:
        kb = KnowledgeBase(rt.engine, rt.policy)
        context.application.bot_data["knowledge_base"] = kb
    return kb


# --- Sending ----------------------------------------------------------------------------------------------


async def send(update: Update, text: str, keyboard: InlineKeyboardMarkup | None = None) -> None:
    """Reply with `text` (split when too long; the keyboard goes with the last part)."""
    message = update.effective_message
    parts = split_message(text)
    for i, part in enumerate(parts):
        markup = keyboard if i == len(parts) - 1 else None
        await message.reply_text(part, reply_markup=markup, disable_web_page_preview=True)


async def answer_quietly(query, text: str | None = None, *, alert: bool = False) -> None:
    """Answer a tap; a tap answered already (or too old to answer) needs nothing more."""
    with contextlib.suppress(Exception):
        await query.answer(text, show_alert=alert)


async def drop_keyboard(query) -> None:
    """Take the buttons off a tapped message (when it can still be edited)."""
    try:
        await query.edit_message_reply_markup(reply_markup=None)
    except Exception:  # the message may be too old to edit; the registry state guards a double tap anyway
        log.debug("Could not remove the keyboard", exc_info=True)


async def conflict(update: Update, lang: str) -> None:
    """Another update of this staff member changed the same state at the same moment: nothing was done."""
    if update.callback_query is not None:
        await answer_quietly(update.callback_query, t("kb_state_conflict", lang), alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(t("kb_state_conflict", lang))


# --- Screens ----------------------------------------------------------------------------------------------


async def show_list(update: Update, context: BotContext, page: int = 0) -> None:
    """The /kb list (one page), with the drafts waiting."""
    kb = await knowledge_base(update, context)
    if kb is None:
        return
    await asyncio.to_thread(kb.refresh_if_changed)  # another process (the CLI) may have changed it
    rows = await asyncio.to_thread(kb.documents)
    waiting = await asyncio.to_thread(kb.drafts)
    await send(update, *views.list_view(rows, waiting, page, context.language))


async def show_document(update: Update, context: BotContext, doc_id: str) -> None:
    """A document's card."""
    if await knowledge_base(update, context) is None:
        return

    def read(*, session):
        return registry.versions(doc_id, session=session), registry.current(doc_id, session=session)

    versions, row = await context.db(read)
    if row is None:
        await update.effective_message.reply_text(t("kb_err_not_found", context.language))
        return
    await send(update, *views.document_view(row, versions, context.language))


def _replaced_version(row, *, session):
    """The version a draft replaces (None for a new document)."""
    if not row.replaces:
        return None
    return next((r for r in registry.versions(row.doc_id, session=session) if r.index_id == row.replaces), None)


def _alert_preview(kb, row, lang: str) -> str:
    """Before publishing: how many followers the alert would reach, and the message they would get."""
    count, texts = preview_for_draft(kb, row)
    return views.alert_preview_text(count, texts, lang)


async def send_preview(update: Update, context: BotContext, kb, row) -> None:
    """The draft preview followed by the alert preview (computed off the event loop)."""
    lang = context.language
    try:
        alert = await asyncio.to_thread(_alert_preview, kb, row, lang)
    except Exception:  # the preview must not fail because the alert preview could not be built
        log.exception("alert preview of draft #%s failed", row.id)
        alert = ""
    old = await context.db(_replaced_version, row)
    text = views.render_preview(row, lang, old) + ("\n\n" + alert if alert else "")
    await send(update, text, views.preview_keyboard(row, lang))
