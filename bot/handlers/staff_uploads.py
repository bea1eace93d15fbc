"""Staff uploads and typed draft fields: a staff member's document becomes a draft and its preview; a typed value
(after ✏️, or a `城市：深圳市` line while a draft is open) edits the draft. Anyone else's document goes on to the
other flows, and one that no flow takes is refused here (logged and audited)."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.context import BotContext
from bot.handlers.staff_common import (
    FLOW,
    actor,
    check_role,
    conflict,
    is_staff,
    knowledge_base,
    send_preview,
)
from bot.handlers.staff_views import error_text
from bot.state import FlowState, StateConflict, flow_state, in_flow, load_flow_state
from bot.texts import t
from db.accounts import roles
from db.core import audit
from db.core.audit import Actor
from db.knowledge import registry
from db.knowledge.registry import log_safe
from knowledge.uploads import Upload
from retrieval.errors import IngestError

log = logging.getLogger(__name__)

#: What a typed `name: value` line (or a caption line) may name, in Chinese or English.
_REPLY_FIELDS = {
    "标题": "title",
    "title": "title",
    "城市": "city",
    "city": "city",
    "发文机关": "issuer",
    "发布机构": "issuer",
    "issuer": "issuer",
    "日期": "date",
    "date": "date",
    "文号": "doc_number",
    "number": "doc_number",
    "省份": "province",
    "province": "province",
    "别名": "aliases",
    "aliases": "aliases",
}
_FIELD_REPLY = re.compile(r"^\s*([A-Za-z\u4e00-\u9fff]{2,8})\s*[:：]\s*(.+?)\s*$")


def _field_line(line: str) -> tuple[str, str] | None:
    """(field, value) of a `城市：深圳市` line; None for any other text."""
    match = _FIELD_REPLY.match(line)
    if match and match.group(1).lower() in _REPLY_FIELDS:
        return _REPLY_FIELDS[match.group(1).lower()], match.group(2)
    return None


def _caption_fields(caption: str) -> dict:
    return dict(pair for line in caption.splitlines() if (pair := _field_line(line)))


def _in_filing_flow(update: Update, context: BotContext) -> bool:
    """Whether the user is in the operators' filing flow, as that flow kept its state for this update
    (`bot.state`'s flow-membership API: no import of the filing flow's keys)."""
    return in_flow(context.user_data, update, "filing")


async def claim_staff_document(update: Update, context: BotContext) -> None:
    """Early group: a staff member's document is a knowledge-base upload (handled here, nobody else sees it).
    Anyone else's goes on to the other flows; so does a staff member's while they are in the operators' filing
    flow, unless they asked to replace a document."""
    if update.effective_message is None or update.effective_message.document is None:
        return
    user_id = update.effective_user.id
    if _in_filing_flow(update, context):
        state = await load_flow_state(context, user_id, FLOW)
        if not state.get("replace") or not await is_staff(update, context):
            return
    elif not await is_staff(update, context):
        return
    else:
        state = await load_flow_state(context, user_id, FLOW)
    try:
        await handle_upload(update, context, state)
    except StateConflict:
        await conflict(update, context.language)
    raise ApplicationHandlerStop


async def refuse_document(update: Update, context: BotContext) -> None:
    """A document no flow took: only staff may add documents (polite refusal, logged and audited)."""
    document = update.effective_message.document
    user = update.effective_user
    # Ids, sizes and the outcome only: a file name is user text (it may carry a phone number or forge a log
    # line with a newline), so it is neither logged nor recorded.
    log.warning(
        "Refused a document upload from non-staff user %s (file %s, %s bytes)",
        user.id,
        log_safe(document.file_unique_id),
        document.file_size,
    )
    detail = f"document upload ({document.file_size} bytes) needs staff"
    await context.db(audit.record_by, Actor(user.id), "denied", detail=detail)
    await update.effective_message.reply_text(t("kb_refused_upload", context.language))


async def _download(update: Update, context: BotContext) -> bytes | None:
    """The document's bytes (None, after telling the user, when Telegram would not give them)."""
    document = update.effective_message.document
    try:
        telegram_file = await context.bot.get_file(document.file_id)
        return bytes(await telegram_file.download_as_bytearray())
    except Exception:
        log.exception("Could not download file %s", log_safe(document.file_unique_id))
        await update.effective_message.reply_text(t("kb_err_failed", context.language))
        return None


async def handle_upload(update: Update, context: BotContext, state: FlowState) -> None:
    """A staff upload → a draft and its preview (or the reason it was refused). `state` is the staff member's
    "kb" state: the awaited replacement is used up, the new draft remembered (stored before the preview is
    sent; may raise StateConflict)."""
    message = update.effective_message
    document = message.document
    lang = context.language
    kb = await knowledge_base(update, context)
    if kb is None:
        return
    replace_doc_id = state.pop("replace", None)
    state.pop("edit", None)
    await state.save()
    if document.file_size and document.file_size > kb.max_upload_bytes:
        exc = IngestError(
            "too_large", f"upload is {document.file_size} bytes", size=document.file_size, limit=kb.max_upload_bytes
        )
        detail = f"too_large: {document.file_size} bytes"
        await context.db(registry.record_for, actor(update), "reject", detail=detail)
        await message.reply_text(error_text(exc, lang))
        return
    data = await _download(update, context)
    if data is None:
        return
    name = Path(document.file_name or "upload").name
    upload = Upload(data, name, overrides=_caption_fields(message.caption or ""), replace_doc_id=replace_doc_id)
    try:
        row = await asyncio.to_thread(kb.ingest, upload, actor(update))
    except IngestError as exc:
        await message.reply_text(error_text(exc, lang))
        return
    state["draft"] = row.id
    try:
        await state.save()
    except StateConflict:  # the preview's buttons carry the row id: nothing is lost by showing it anyway
        log.info("kb state of user %s changed concurrently during an upload", update.effective_user.id)
    await send_preview(update, context, kb, row)


async def claim_staff_reply(update: Update, context: BotContext) -> None:
    """Early group: a staff member's typed value for a draft field (after ✏️, or a `城市：深圳市` line while a
    draft is open). Any other text goes on to the other flows and to policy questions."""
    if update.effective_user is None or update.effective_message is None:
        return
    text = (update.effective_message.text or "").strip()
    try:
        async with flow_state(context, update.effective_user.id, FLOW) as state:
            pending = state.get("edit")
            draft = state.get("draft")
            if pending:
                row_id, field, value = pending["row"], pending["field"], text
            elif draft and (pair := _field_line(text)):
                row_id, (field, value) = draft, pair
            else:
                return
            state.pop("edit", None)
            await state.save()  # the awaited value is used up before anything is answered
            if await check_role(update, context, roles.STAFF, action="edit draft"):
                await edit_draft(update, context, row_id, field, value)
    except StateConflict:
        await conflict(update, context.language)
    raise ApplicationHandlerStop


async def edit_draft(update: Update, context: BotContext, row_id: int, field: str, value: str) -> None:
    """Set one field of a draft and show the preview again (or why the value was refused)."""
    lang = context.language
    kb = await knowledge_base(update, context)
    if kb is None:
        return
    try:
        row = await asyncio.to_thread(kb.edit, row_id, actor(update), **{field: value})
    except IngestError as exc:
        await update.effective_message.reply_text(error_text(exc, lang))
        return
    await update.effective_message.reply_text(t("kb_edited", lang, field=t(f"kb_field_{field}", lang)))
    await send_preview(update, context, kb, row)
