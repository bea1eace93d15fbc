"""Free-text policy questions and the "show source" buttons."""

from __future__ import annotations

import asyncio
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction, ChatType
from telegram.error import TelegramError

from bot.context import BotContext
from bot.handlers.alerts_views import follow_button
from bot.policy_render import (
    parse_source_callback,
    render_policy_answer,
    source_callback_data,
    sources_for_buttons,
)
from bot.render import answer_language, render_source, split_message
from bot.state import StateConflict, load_flow_state
from bot.texts import t
from retrieval.answer import source_of
from retrieval.service import MAX_QUESTION_CHARS

log = logging.getLogger(__name__)
POLICY_LOAD_WAIT_SECONDS = 60


async def _policy_service(update: Update, context: BotContext, lang: str):
    """The policy service, waiting (bounded) while it loads in the background."""
    rt = context.runtime
    if not rt.policy_ready.is_set():
        try:
            await asyncio.wait_for(rt.policy_ready.wait(), timeout=POLICY_LOAD_WAIT_SECONDS)
        except TimeoutError:
            await update.effective_message.reply_text(t("busy_loading", lang))
            return None
    return rt.policy


async def ask(update: Update, context: BotContext) -> None:
    """Answer a typed question from the policy documents."""
    message = update.effective_message
    lang = context.language
    question = " ".join((message.text or "").split())
    if len(question) < 2:
        await message.reply_text(t("empty_question", lang))
        return
    await answer_question(update, context, question, lang)


async def answer_question(update: Update, context: BotContext, question: str, lang: str) -> None:
    """Answer `question` in the chat of the update (a typed question, or an alert's "ask about it" button)."""
    message = update.effective_message
    lang = answer_language(question, lang)
    if len(question) > MAX_QUESTION_CHARS:
        await message.reply_text(t("too_long", lang, limit=MAX_QUESTION_CHARS))
    service = await _policy_service(update, context, lang)
    if service is None:
        return
    try:
        await context.bot.send_chat_action(message.chat_id, ChatAction.TYPING)
    except TelegramError:  # "typing…" is a courtesy: never a reason not to answer
        log.info("chat action for user %s not sent", update.effective_user.id)
    # The question a follow-up ("那张家港呢？") refers to is kept in the database, so any worker resolves it.
    state = await load_flow_state(context, update.effective_user.id, "policy")
    answer = await asyncio.to_thread(service.ask, question, state.get("last_question"))
    state["last_question"] = answer.effective_question
    try:
        await state.save()
    except StateConflict:  # two questions at once: the other one's context is as good as this one's
        log.info("policy context of user %s changed concurrently; kept the other", update.effective_user.id)
    covered = service.searcher.cities()
    text = render_policy_answer(answer, lang, covered)
    log.info("policy answer: answered=%s reason=%s sources=%d", answer.answered, answer.reason or "-",
             len(answer.sources))
    buttons = [
        InlineKeyboardButton(t("btn_source", lang, n=i), callback_data=data)
        for i, data in enumerate((source_callback_data(s) for s in sources_for_buttons(answer)), start=1)
        if data is not None
    ]
    rows = [buttons] if buttons else []
    follow = _follow_button(update, answer, lang)
    if follow is not None:
        rows.append([follow])
    keyboard = InlineKeyboardMarkup(rows) if rows else None
    parts = split_message(text)
    for i, part in enumerate(parts):
        markup = keyboard if i == len(parts) - 1 else None
        await message.reply_text(part, reply_markup=markup, disable_web_page_preview=True)


def _follow_button(update: Update, answer, lang: str) -> InlineKeyboardButton | None:
    """"🔔 关注XX政策更新" under an answer about one city (or one asking about a city without documents yet), in
    private chats only: alerts are personal."""
    chat = update.effective_chat
    if chat is None or chat.type != ChatType.PRIVATE or answer.off_topic:  # a port's traffic is no policy topic
        return None
    cities = answer.cities or answer.named_cities or answer.unknown_places
    return follow_button(cities[0], lang) if len(cities) == 1 else None


async def show_source(update: Update, context: BotContext) -> None:
    """Send the full passage behind a "source" button; an outdated button gets a polite note."""
    query = update.callback_query
    lang = context.language
    chunk_id = parse_source_callback(query.data)
    if chunk_id is None:  # forged, oversized or malformed data: never trusted, never an exception
        log.info("source button with invalid data (%d chars)", len(query.data or ""))
        await query.answer(t("stale_button", lang), show_alert=True)
        return
    service = context.runtime.policy
    item = service.searcher.by_id.get(chunk_id) if service is not None else None
    if item is None:
        await query.answer(t("source_gone", lang), show_alert=True)
        return
    await query.answer()
    text = render_source(source_of(item), lang, item.meta.issuer, item.meta.date, item.meta.doc_number)
    for part in split_message(text):
        await query.message.reply_text(part)
