"""Every `kb:` button: decoded by `staff_views.CODEC` first (forged or stale data gets a polite answer and changes
nothing), the role checked again for each tap, then one small handler per action."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial

from telegram import CallbackQuery, Update

from bot.callbacks import CallbackError
from bot.context import BotContext
from bot.handlers import staff_views as views
from bot.handlers.common import require_private_chat
from bot.handlers.staff_common import (
    FLOW,
    actor,
    answer_quietly,
    check_role,
    conflict,
    drop_keyboard,
    knowledge_base,
    send,
    send_preview,
    show_document,
    show_list,
)
from bot.handlers.staff_roles import show_roles
from bot.state import FlowState, StateConflict, flow_state
from bot.texts import t
from db.accounts import roles
from db.knowledge import registry
from knowledge.admin import KnowledgeBase
from retrieval.errors import IngestError


@dataclass
class Tap:
    """One tap on a `kb:` button: the update, its context, the knowledge base and the staff member's state."""

    update: Update
    context: BotContext
    kb: KnowledgeBase
    state: FlowState

    @property
    def query(self) -> CallbackQuery:
        return self.update.callback_query

    @property
    def lang(self) -> str:
        return self.context.language

    async def reply(self, text: str) -> None:
        """A new message under the tapped one."""
        await self.query.message.reply_text(text)


async def kb_callback(update: Update, context: BotContext) -> None:
    """Every `kb:` button: decoded first (forged or stale data gets a polite answer and changes nothing), then
    the role is checked again for each tap."""
    query = update.callback_query
    lang = context.language
    try:
        decoded = views.CODEC.decode(query.data)
    except CallbackError:
        await answer_quietly(query, t("stale_button", lang))
        return
    if query.message is None or update.effective_user is None:  # e.g. a button of an inline message
        await answer_quietly(query, t("stale_button", lang))
        return
    if not await require_private_chat(update, context):
        return
    if not await check_role(update, context, roles.STAFF, action=f"kb button {decoded.action}"):
        return
    kb = await knowledge_base(update, context)
    if kb is None:
        await answer_quietly(query)
        return
    try:
        async with flow_state(context, update.effective_user.id, FLOW) as state:
            await _BUTTONS[decoded.action](Tap(update, context, kb, state), *decoded.args)
    except StateConflict:
        await conflict(update, lang)
    except IngestError as exc:
        await answer_quietly(query)
        await query.message.reply_text(views.error_text(exc, lang))


async def _draft(tap: Tap, row_id: int):
    row = await tap.context.db(registry.get_row, row_id)
    if row is None or row.status != "draft":
        raise IngestError("bad_state", "not a draft")
    return row


async def _current(tap: Tap, doc_id: str):
    row = await tap.context.db(registry.current, doc_id)
    if row is None:
        raise IngestError("not_found", "no such document", doc_id=doc_id)
    return row


async def _forget_draft(state: FlowState, row_id: int) -> None:
    """The draft `row_id` is about to be published or discarded: typed lines and awaited values no longer go
    to it. Stored BEFORE the registry changes, so a concurrent change (StateConflict: "tap again") means nothing
    was done yet. Should publishing then fail, the draft's own preview button opens it again."""
    if state.get("draft") == row_id:
        state.pop("draft", None)
    if (state.get("edit") or {}).get("row") == row_id:
        state.pop("edit", None)
    await state.save()


async def _btn_list(tap: Tap, page: int) -> None:
    await answer_quietly(tap.query)
    await show_list(tap.update, tap.context, page=page)


async def _btn_doc(tap: Tap, doc_id: str) -> None:
    await answer_quietly(tap.query)
    await show_document(tap.update, tap.context, doc_id)


async def _btn_preview(tap: Tap, row_id: int) -> None:
    row = await _draft(tap, row_id)
    tap.state["draft"] = row.id
    await tap.state.save()
    await answer_quietly(tap.query)
    await send_preview(tap.update, tap.context, tap.kb, row)


async def _btn_edit(tap: Tap, row_id: int, code: str) -> None:
    field = views.FIELD_CODES[code]
    row = await _draft(tap, row_id)
    tap.state["edit"] = {"row": row.id, "field": field}
    await tap.state.save()
    await answer_quietly(tap.query)
    await tap.reply(views.ask_value_text(field, tap.lang))


async def _btn_publish(tap: Tap, row_id: int, notify: bool = True) -> None:
    await _draft(tap, row_id)
    await _forget_draft(tap.state, row_id)
    await answer_quietly(tap.query, t("kb_publishing", tap.lang))
    await drop_keyboard(tap.query)
    await tap.reply(t("kb_publishing", tap.lang))
    result = await asyncio.to_thread(partial(tap.kb.publish, row_id, actor(tap.update), notify=notify))
    await send(tap.update, views.render_change(result, tap.lang, notify))


async def _btn_publish_silent(tap: Tap, row_id: int) -> None:
    await _btn_publish(tap, row_id, notify=False)


async def _btn_discard(tap: Tap, row_id: int) -> None:
    await _draft(tap, row_id)
    await _forget_draft(tap.state, row_id)
    await answer_quietly(tap.query)
    await asyncio.to_thread(tap.kb.discard, row_id, actor(tap.update))
    await drop_keyboard(tap.query)
    await tap.reply(t("kb_discarded", tap.lang))


async def _btn_replace(tap: Tap, doc_id: str) -> None:
    row = await _current(tap, doc_id)
    tap.state["replace"] = row.doc_id
    await tap.state.save()
    await answer_quietly(tap.query)
    await tap.reply(t("kb_send_new_version", tap.lang, title=row.title))


async def _btn_retire(tap: Tap, doc_id: str) -> None:
    """停用 asks first: what stops answering, and a button to confirm (or go back to the card)."""
    row = await _current(tap, doc_id)
    await answer_quietly(tap.query)
    if row.status != "published":
        await tap.reply(t("kb_err_bad_state", tap.lang))
        return
    await send(tap.update, *views.retire_confirm_view(row, tap.lang))


async def _btn_retire_confirmed(tap: Tap, doc_id: str) -> None:
    await _current(tap, doc_id)
    await answer_quietly(tap.query)
    await drop_keyboard(tap.query)
    result = await asyncio.to_thread(tap.kb.retire, doc_id, actor(tap.update))
    await send(tap.update, views.render_change(result, tap.lang))


async def _btn_restore(tap: Tap, doc_id: str) -> None:
    await _current(tap, doc_id)
    await answer_quietly(tap.query, t("kb_publishing", tap.lang))
    result = await asyncio.to_thread(tap.kb.restore, doc_id, actor(tap.update))
    await send(tap.update, views.render_change(result, tap.lang))


async def _btn_reindex(tap: Tap) -> None:
    await answer_quietly(tap.query)
    await tap.reply(t("kb_reindexing", tap.lang))
    result = await asyncio.to_thread(tap.kb.reindex, actor(tap.update))
    await tap.reply(views.reindex_text(result, tap.lang))


async def _btn_roles(tap: Tap) -> None:
    await answer_quietly(tap.query)
    await show_roles(tap.update, tap.context)


_BUTTONS = {
    views.A_LIST: _btn_list,
    views.A_DOC: _btn_doc,
    views.A_PREVIEW: _btn_preview,
    views.A_EDIT: _btn_edit,
    views.A_PUBLISH: _btn_publish,
    views.A_PUBLISH_SILENT: _btn_publish_silent,
    views.A_DISCARD: _btn_discard,
    views.A_REPLACE: _btn_replace,
    views.A_RETIRE: _btn_retire,
    views.A_RETIRE_CONFIRMED: _btn_retire_confirmed,
    views.A_RESTORE: _btn_restore,
    views.A_REINDEX: _btn_reindex,
    views.A_ROLES: _btn_roles,
}
assert set(_BUTTONS) == set(views.CODEC.actions), "every declared button has a handler"
