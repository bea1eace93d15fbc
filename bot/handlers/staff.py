"""Staff keep the knowledge base current (/kb, document uploads) and admins manage roles (/grant, /revoke,
/link, /unlink, /roles).

Handlers stay thin: roles are checked in `db.accounts.roles` (on the server side, for every command, button and
upload), the knowledge-base work happens in `knowledge.admin.KnowledgeBase`.

Who gets a document message: a staff member's upload is claimed early (group `STAFF_GROUP`) — unless they are in the
middle of the operators' filing flow — so no other flow sees it; anyone else's upload goes on to the other
flows (the filing flow takes operators' uploads), and one that no flow takes gets a polite refusal here,
which is logged and recorded in the audit log.

State lives in the database, not in the process (`bot.state`, flow "kb"), so a restart or another worker continues
a draft where the staff member was. Its keys:

* "draft": the draft row id last previewed (a typed `城市：深圳市` line edits it);
* "edit": {"row": draft row id, "field": name} while a typed value for that field is awaited (after ✏️);
* "replace": the doc id whose new version the next upload is.

The list page and a pending retire confirmation are carried by the buttons themselves (`kb:list:<page>`,
`kb:retok:<doc id>`), so they need no state. Each update opens the state once and saves it before answering; a
change racing another update of the same staff member on another worker is answered "please try again"
(`StateConflict`), never silently lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import re
from functools import partial
from pathlib import Path

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import texts_alerts, texts_staff  # noqa: F401  (registers the texts)
from bot.callbacks import CallbackCodec, CallbackError, Choice, Id, Int, Token
from bot.command_args import RECORD_ID, USER_ID, ArgumentError, parse_args
from bot.context import BotContext
from bot.handlers import filing
from bot.handlers.common import require_private_chat
from bot.render import split_message
from bot.state import FlowState, StateConflict, flow_state, load_flow_state
from bot.texts import TEXTS as _TEXT_KEYS
from bot.texts import join_names, t
from db.accounts import roles
from db.core import audit
from db.core.audit import Actor
from db.knowledge import registry
from db.knowledge.registry import log_safe
from knowledge.uploads import Upload

log = logging.getLogger(__name__)

POLICY_WAIT_SECONDS = 60
FLOW = "kb"  # the bot.state flow name (keys: see the module docstring)
FIELD_CODES = {"t": "title", "c": "city", "i": "issuer", "d": "date", "n": "doc_number"}
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
PAGE_SIZE = 10

#: Every button of the staff flow (data formats as before: `kb:<action>[:<row id>|<doc id>|<page>]`).
CODEC = CallbackCodec("kb")
_DOC = Token(40)  # a document id (db.knowledge.registry: [a-z0-9][a-z0-9_-]{0,39})
A_LIST = CODEC.action("list", Int(0, 10_000))
A_DOC = CODEC.action("doc", _DOC)
A_PREVIEW = CODEC.action("pv", Id())
A_EDIT = CODEC.action("ed", Id(), Choice(tuple(FIELD_CODES)))
A_PUBLISH = CODEC.action("pub", Id())
A_PUBLISH_SILENT = CODEC.action("pubq", Id())  # publish without a policy-change alert
A_DISCARD = CODEC.action("dis", Id())
A_REPLACE = CODEC.action("rep", _DOC)
A_RETIRE = CODEC.action("ret", _DOC)  # asks first
A_RETIRE_CONFIRMED = CODEC.action("retok", _DOC)
A_RESTORE = CODEC.action("res", _DOC)
A_REINDEX = CODEC.action("reidx")
A_ROLES = CODEC.action("roles")
#: The handler group of the early "is this a staff member's upload or typed field value?" checks.
STAFF_GROUP = -20


def _esc(text: object) -> str:
    return html.escape(str(text or ""), quote=False)


def _size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size} B"


def _button(text: str, action: str, *values: object) -> InlineKeyboardButton:
    """A button of this flow; `CODEC.encode` refuses anything Telegram would reject."""
    return InlineKeyboardButton(text, callback_data=CODEC.encode(action, *values))


def _actor(update: Update) -> Actor:
    return Actor(telegram_id=update.effective_user.id)


# --- Role checks ------------------------------------------------------------------------------------------


async def is_staff(update: Update, context: BotContext) -> bool:
    """True for staff and admins (no logging: for deciding who a message belongs to)."""
    rt = context.runtime
    user = update.effective_user
    if user is None:
        return False
    return await context.db(roles.has_role, user.id, roles.STAFF, admin_ids=rt.settings.admin_ids)


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
    rt = context.runtime
    user = update.effective_user
    role = await context.db(roles.authorize, user.id, *allowed, admin_ids=rt.settings.admin_ids, action=action)
    if role is not None:
        return True
    lang = context.language
    if update.callback_query is not None:
        await update.callback_query.answer(t(refusal, lang), show_alert=True)
    else:
        await update.effective_message.reply_text(t(refusal, lang))
    return False


async def _knowledge_base(update: Update, context: BotContext):
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
        from knowledge.admin import KnowledgeBase

        kb = KnowledgeBase(rt.engine, rt.policy)
        context.application.bot_data["knowledge_base"] = kb
    return kb


# --- Rendering --------------------------------------------------------------------------------------------


def _kind(kind: str, lang: str) -> str:
    key = f"kb_kind_{kind}"
    from bot.texts import TEXTS

    return t(key, lang) if key in TEXTS else kind


def _clip(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


#: Human names of the binary formats the loader recognises (LoaderError.params["format"]).
_FORMATS = ("doc", "png", "jpeg", "gif", "rar", "7z", "gzip", "rtf")


def error_text(exc, lang: str) -> str:
    """A friendly explanation of an `IngestError`, built from its code and structured details only (never
    from its English `message`)."""
    code, details = exc.code, exc.details
    reason = details.get("reason")
    if code == "too_large":
        limit = int(details.get("limit") or 0)
        if reason in ("expands", "parts"):
            return t("kb_err_too_large_zip", lang, limit=_size(limit) if reason == "expands" else limit)
        return t("kb_err_too_large", lang, size=_size(int(details.get("size") or 0)), limit=_size(limit))
    if code == "unsupported_type":
        if reason == "mislabelled":
            kind = details.get("kind", "")
            return _esc(t("kb_err_mislabelled", lang, suffix=details.get("suffix", ""),
                          kind=t(f"kb_format_{kind}", lang) if f"kb_format_{kind}" in _TEXT_KEYS else kind))
        fmt = details.get("format")
        what = t(f"kb_format_{fmt}", lang) if fmt in _FORMATS else t("kb_format_unknown", lang)
        if reason == "zip":
            what = t("kb_format_zip", lang)
        return _esc(t("kb_err_unsupported_type", lang, what=what))
    if code == "duplicate" and details.get("doc_id"):
        key = (
            "kb_err_duplicate_kept"
            if details.get("status") in ("retired", "replaced")
            else "kb_err_duplicate"
        )
        return _esc(
            t(
                key,
                lang,
                title=details.get("title", ""),
                doc_id=details.get("doc_id", ""),
                version=details.get("version", 1),
                status=t(f"kb_status_{details.get('status', 'published')}", lang),
            )
        )
    if code == "bad_metadata":
        if details.get("fields"):
            names = join_names([t(f"kb_field_{f}", lang) for f in details["fields"]], lang)
            return t("kb_err_missing_metadata", lang, fields=names)
        field = details.get("field", "")
        label = t(f"kb_field_{field}", lang) if f"kb_field_{field}" in _TEXT_KEYS else t("kb_field_unknown", lang)
        why_key = f"kb_bad_{reason}" if f"kb_bad_{reason}" in _TEXT_KEYS else "kb_bad_invalid"
        detail = t(why_key, lang, limit=details.get("limit", ""))
        return _esc(t("kb_err_bad_metadata", lang, field=label, detail=detail))
    if code in ("encrypted", "corrupt", "empty", "not_found", "bad_state"):
        return t(f"kb_err_{code}", lang)
    return t("kb_err_failed", lang)


def render_preview(row, lang: str, old=None) -> str:
    """The draft preview: detected metadata, structure, what cleaning removed, what was flagged; `old`: the
    version the draft replaces, if any."""
    unknown = t("kb_unknown_value", lang)
    parts = [t("kb_preview_title", lang)]
    if row.replaces and old is not None:
        parts.append(
            _esc(t("kb_preview_replace", lang, title=old.title, version=old.version, new=row.version))
        )
    parts.append(
        _esc(
            t(
                "kb_preview_file",
                lang,
                name=row.file_name,
                kind=row.file_kind.upper(),
                size=_size(row.file_size),
            )
        )
    )
    parts.append(
        _esc(
            t(
                "kb_preview_meta",
                lang,
                title=row.title or unknown,
                city=row.city or unknown,
                issuer=row.issuer or unknown,
                date=row.date or unknown,
                doc_number=row.doc_number or "—",
                doc_id=row.doc_id,
            )
        )
    )
    parts.append(t("kb_preview_structure", lang, sections=row.sections, chunks=row.chunks))
    counts = (row.cleaning or {}).get("counts") or {}
    if counts:
        summary = join_names([t("kb_count", lang, kind=_kind(k, lang), n=n) for k, n in counts.items()], lang)
        lines = [_esc(t("kb_preview_cleaned", lang, counts=summary))]
        items = (row.cleaning or {}).get("items") or []
        for item in items[:5]:
            lines.append(
                _esc(t("kb_preview_item", lang, kind=_kind(item["kind"], lang), text=_clip(item["text"])))
            )
        total = sum(counts.values())
        if total > 5:
            lines.append(t("kb_preview_more", lang, n=total - 5))
        parts.append("\n".join(lines))
    else:
        parts.append(t("kb_preview_cleaned_none", lang))
    if row.flags:
        lines = [t("kb_preview_flags", lang)]
        for flag in row.flags[:6]:
            lines.append(
                _esc(
                    t(
                        "kb_preview_flag_line",
                        lang,
                        kind=_kind(flag["kind"], lang),
                        line=flag["line"],
                        text=_clip(flag["text"], 100),
                    )
                )
            )
        if len(row.flags) > 6:
            lines.append(t("kb_preview_more", lang, n=len(row.flags) - 6))
        parts.append("\n".join(lines))
    parts.append(t("kb_preview_hint", lang))
    return "\n\n".join(parts)


def preview_keyboard(row, lang: str) -> InlineKeyboardMarkup:
    edits = [
        _button(t("kb_btn_edit", lang, field=t(f"kb_field_{name}", lang)), A_EDIT, row.id, code)
        for code, name in FIELD_CODES.items()
    ]
    return InlineKeyboardMarkup(
        [
            edits[:3],
            edits[3:],
            [
                _button(t("kb_btn_publish", lang), A_PUBLISH, row.id),
                _button(t("kb_btn_publish_silent", lang), A_PUBLISH_SILENT, row.id),
                _button(t("kb_btn_discard", lang), A_DISCARD, row.id),
            ],
        ]
    )


def render_alert_preview(kb, row, lang: str) -> str:
    """Before publishing: how many followers the alert would reach, and the message they would get."""
    from bot.alert_messages import preview_for_draft

    count, texts = preview_for_draft(kb, row)
    if not count:
        return t("kb_alert_none", lang)
    if texts is None:
        return t("kb_alert_cosmetic", lang, n=count)
    return t("kb_alert_preview", lang, n=count) + "\n<blockquote>" + _esc(texts[lang]) + "</blockquote>"


def _replaced_version(row, *, session):
    """The version a draft replaces (None for a new document)."""
    if not row.replaces:
        return None
    return next((r for r in registry.versions(row.doc_id, session=session) if r.index_id == row.replaces), None)


async def _send_preview(update: Update, context: BotContext, kb, row) -> None:
    """The draft preview followed by the alert preview (computed off the event loop)."""
    lang = context.language
    try:
        alert = await asyncio.to_thread(render_alert_preview, kb, row, lang)
    except Exception:  # the preview must not fail because the alert preview could not be built
        log.exception("alert preview of draft #%s failed", row.id)
        alert = ""
    old = await context.db(_replaced_version, row)
    text = render_preview(row, lang, old) + ("\n\n" + alert if alert else "")
    await _send(update, text, preview_keyboard(row, lang))


def _pct(value) -> str:
    return f"{100 * float(value or 0):.1f}%"


def render_quality(change, lang: str) -> str:
    """Hit rate before/after and the questions that got worse."""
    if change is None:
        return t("kb_quality_none", lang)
    b, a = change.before, change.after
    lines = [
        t(
            "kb_quality",
            lang,
            n=a.get("questions", 0),
            b5=_pct(b.get("hit@5")),
            a5=_pct(a.get("hit@5")),
            b1=_pct(b.get("hit@1")),
            a1=_pct(a.get("hit@1")),
            bm=f"{b.get('mrr@5', 0):.3f}",
            am=f"{a.get('mrr@5', 0):.3f}",
            br=_pct(b.get("refusal_accuracy")),
            ar=_pct(a.get("refusal_accuracy")),
        )
    ]
    if change.dropped:
        lines.append(t("kb_quality_drop", lang))
        lines.extend(f"• {_esc(q)}" for q in change.worse[:10])
    else:
        lines.append(t("kb_quality_ok", lang))
    if change.better:
        lines.append(t("kb_quality_better", lang, n=len(change.better)))
    return "\n".join(lines)


def render_change(result, lang: str) -> str:
    """The message after publish / replace / retire / restore."""
    doc = result.document
    if result.action == "replace":
        head = t("kb_replaced", lang, title=doc.title, version=doc.version, old=result.previous.version)
    elif result.action == "publish":
        head = t("kb_published", lang, title=doc.title, version=doc.version, chunks=doc.chunks)
    elif result.action == "retire":
        head = t("kb_retired", lang, title=doc.title, version=doc.version)
    else:
        head = t("kb_restored", lang, title=doc.title, version=doc.version)
    return _esc(head) + "\n\n" + render_quality(result.quality, lang)


async def _send(update: Update, text: str, keyboard: InlineKeyboardMarkup | None = None) -> None:
    message = update.effective_message
    parts = split_message(text)
    for i, part in enumerate(parts):
        markup = keyboard if i == len(parts) - 1 else None
        await message.reply_text(
            part, reply_markup=markup, disable_web_page_preview=True
        )


# --- /kb: the list and the document card -------------------------------------------------------------------


async def kb_command(update: Update, context: BotContext) -> None:
    """`/kb`: the documents with their status, drafts waiting, and the actions (staff only). Forgets an awaited
    field value or replacement file."""
    if not await require_private_chat(update, context):
        return
    if not await check_role(update, context, roles.STAFF, action="/kb"):
        return
    try:
        async with flow_state(context, update.effective_user.id, FLOW) as state:
            state.pop("edit", None)
            state.pop("replace", None)
    except StateConflict:
        log.info("kb state of user %s changed concurrently during /kb", update.effective_user.id)
    await show_list(update, context, page=0)


async def show_list(update: Update, context: BotContext, page: int = 0) -> None:
    lang = context.language
    kb = await _knowledge_base(update, context)
    if kb is None:
        return
    await asyncio.to_thread(kb.refresh_if_changed)  # another process (the CLI) may have changed it
    rows = await asyncio.to_thread(kb.documents)
    waiting = await asyncio.to_thread(kb.drafts)
    page_rows = rows[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    lines = [t("kb_list_title", lang, n=len(rows))]
    for n, row in enumerate(page_rows, start=page * PAGE_SIZE + 1):
        lines.append(
            _esc(
                t(
                    "kb_list_line",
                    lang,
                    n=n,
                    title=row.title,
                    city=row.city,
                    date=row.date or t("kb_no_date", lang),
                    version=row.version,
                    status=t(f"kb_status_{row.status}", lang),
                )
            )
        )
    if waiting:
        lines.append(t("kb_list_drafts", lang, n=len(waiting)))
        lines.extend(
            _esc(t("kb_list_draft_line", lang, title=d.title, file=d.file_name)) for d in waiting[:5]
        )
    lines.append(t("kb_list_hint", lang))
    numbers = [
        _button(str(n), A_DOC, row.doc_id)
        for n, row in enumerate(page_rows, start=page * PAGE_SIZE + 1)
    ]
    keyboard = [numbers[i : i + 5] for i in range(0, len(numbers), 5)]
    nav = []
    if page > 0:
        nav.append(_button("⬅️", A_LIST, page - 1))
    if (page + 1) * PAGE_SIZE < len(rows):
        nav.append(_button("➡️", A_LIST, page + 1))
    if nav:
        keyboard.append(nav)
    keyboard.extend(
        [
            _button(t("kb_btn_draft", lang, title=_clip(d.title, 24)), A_PREVIEW, d.id)
        ]
        for d in waiting[:3]
    )
    actions = [_button(t("kb_btn_reindex", lang), A_REINDEX)]
    actions.append(_button(t("kb_btn_roles", lang), A_ROLES))
    keyboard.append(actions)
    await _send(update, "\n".join(lines), InlineKeyboardMarkup(keyboard))


async def show_document(update: Update, context: BotContext, doc_id: str) -> None:
    lang = context.language
    kb = await _knowledge_base(update, context)
    if kb is None:
        return

    def read(*, session):
        return registry.versions(doc_id, session=session), registry.current(doc_id, session=session)

    versions, row = await context.db(read)
    if row is None:
        await update.effective_message.reply_text(t("kb_err_not_found", lang))
        return
    origin = (
        t("kb_origin_catalog", lang)
        if row.origin == "catalog"
        else t("kb_origin_staff", lang, file=row.file_name)
    )
    text = t(
        "kb_card",
        lang,
        title=_esc(row.title),
        doc_id=_esc(row.doc_id),
        city=_esc(row.city),
        issuer=_esc(row.issuer or "—"),
        date=_esc(row.date or "—"),
        doc_number=_esc(row.doc_number or "—"),
        version=row.version,
        status=t(f"kb_status_{row.status}", lang),
        chunks=row.chunks,
        origin=_esc(origin),
    )
    shown = [v for v in versions if v.status != "discarded"]
    if len(shown) > 1:
        listed = join_names([f"v{v.version} {t(f'kb_status_{v.status}', lang)}" for v in shown], lang)
        text += "\n" + _esc(t("kb_card_versions", lang, versions=listed))
    buttons = [[_button(t("kb_btn_replace", lang), A_REPLACE, row.doc_id)]]
    if row.status == "published":
        buttons.append([_button(t("kb_btn_retire", lang), A_RETIRE, row.doc_id)])
    else:
        buttons.append([_button(t("kb_btn_restore", lang), A_RESTORE, row.doc_id)])
    buttons.append([_button(t("kb_btn_back", lang), A_LIST, 0)])
    await _send(update, text, InlineKeyboardMarkup(buttons))


# --- Uploads -------------------------------------------------------------------------------------------------


async def _conflict(update: Update, lang: str) -> None:
    """Another update of this staff member changed the same state at the same moment: nothing was done."""
    if update.callback_query is not None:
        await _answer_quietly(update.callback_query, t("kb_state_conflict", lang), alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(t("kb_state_conflict", lang))


async def claim_staff_document(update: Update, context: BotContext) -> None:
    """Early group: a staff member's document is a knowledge-base upload (handled here, nobody else sees it).
    Anyone else's goes on to the other flows; so does a staff member's while they are in the operators' filing
    flow (`filing.in_flow`), unless they asked to replace a document."""
    if update.effective_message is None or update.effective_message.document is None:
        return
    user_id = update.effective_user.id
    if filing.in_flow(update, context):
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
        await _conflict(update, context.language)
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
    await context.db(
        audit.record_by, Actor(user.id), "denied", detail=f"document upload ({document.file_size} bytes) needs staff"
    )
    await update.effective_message.reply_text(t("kb_refused_upload", context.language))


async def handle_upload(update: Update, context: BotContext, state: FlowState) -> None:
    """A staff upload → a draft and its preview (or the reason it was refused). `state` is the staff member's
    "kb" state: the awaited replacement is used up, the new draft remembered (stored before the preview is
    sent; may raise StateConflict)."""
    from retrieval.errors import IngestError

    message = update.effective_message
    document = message.document
    lang = context.language
    kb = await _knowledge_base(update, context)
    if kb is None:
        return
    replace_doc_id = state.pop("replace", None)
    state.pop("edit", None)
    await state.save()
    name = Path(document.file_name or "upload").name
    actor = _actor(update)
    if document.file_size and document.file_size > kb.max_upload_bytes:
        exc = IngestError(
            "too_large",
            f"upload is {document.file_size} bytes",
            size=document.file_size,
            limit=kb.max_upload_bytes,
        )
        await context.db(registry.record_for, actor, "reject", detail=f"too_large: {document.file_size} bytes")
        await message.reply_text(error_text(exc, lang))
        return
    overrides = _caption_fields(message.caption or "")
    try:
        telegram_file = await context.bot.get_file(document.file_id)
        data = bytes(await telegram_file.download_as_bytearray())
    except Exception:
        log.exception("Could not download file %s", log_safe(document.file_unique_id))
        await message.reply_text(t("kb_err_failed", lang))
        return
    try:
        upload = Upload(data, name, overrides=overrides, replace_doc_id=replace_doc_id)
        row = await asyncio.to_thread(kb.ingest, upload, actor)
    except IngestError as exc:
        await message.reply_text(error_text(exc, lang))
        return
    state["draft"] = row.id
    try:
        await state.save()
    except StateConflict:  # the preview's buttons carry the row id: nothing is lost by showing it anyway
        log.info("kb state of user %s changed concurrently during an upload", update.effective_user.id)
    await _send_preview(update, context, kb, row)


def _caption_fields(caption: str) -> dict:
    fields = {}
    for line in caption.splitlines():
        match = _FIELD_REPLY.match(line)
        if match and match.group(1).lower() in _REPLY_FIELDS:
            fields[_REPLY_FIELDS[match.group(1).lower()]] = match.group(2)
    return fields


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
            elif draft and (match := _FIELD_REPLY.match(text)) and match.group(1).lower() in _REPLY_FIELDS:
                row_id, field, value = draft, _REPLY_FIELDS[match.group(1).lower()], match.group(2)
            else:
                return
            state.pop("edit", None)
            await state.save()  # the awaited value is used up before anything is answered
            if await check_role(update, context, roles.STAFF, action="edit draft"):
                await edit_draft(update, context, row_id, field, value)
    except StateConflict:
        await _conflict(update, context.language)
    raise ApplicationHandlerStop


async def edit_draft(
    update: Update, context: BotContext, row_id: int, field: str, value: str
) -> None:
    from retrieval.errors import IngestError

    lang = context.language
    kb = await _knowledge_base(update, context)
    if kb is None:
        return
    try:
        row = await asyncio.to_thread(kb.edit, row_id, _actor(update), **{field: value})
    except IngestError as exc:
        await update.effective_message.reply_text(error_text(exc, lang))
        return
    await update.effective_message.reply_text(t("kb_edited", lang, field=t(f"kb_field_{field}", lang)))
    await _send_preview(update, context, kb, row)


# --- Buttons ------------------------------------------------------------------------------------------------


async def kb_callback(update: Update, context: BotContext) -> None:
    """Every `kb:` button: decoded by `CODEC` first (forged or stale data gets a polite answer and changes
    nothing), then the role is checked again for each tap."""
    from retrieval.errors import IngestError

    query = update.callback_query
    lang = context.language
    try:
        decoded = CODEC.decode(query.data)
    except CallbackError:
        await _answer_quietly(query, t("stale_button", lang))
        return
    if query.message is None or update.effective_user is None:  # e.g. a button of an inline message
        await _answer_quietly(query, t("stale_button", lang))
        return
    if not await require_private_chat(update, context):
        return
    action, args = decoded.action, decoded.args
    if not await check_role(update, context, roles.STAFF, action=f"kb button {action}"):
        return
    kb = await _knowledge_base(update, context)
    if kb is None:
        await _answer_quietly(query)
        return
    try:
        async with flow_state(context, update.effective_user.id, FLOW) as state:
            await _BUTTONS[action](update, context, kb, lang, state, *args)
    except StateConflict:
        await _conflict(update, lang)
    except IngestError as exc:
        await _answer_quietly(query)
        await query.message.reply_text(error_text(exc, lang))


async def _answer_quietly(query, text: str | None = None, *, alert: bool = False) -> None:
    """Answer a tap; a tap answered already (or too old to answer) needs nothing more."""
    with contextlib.suppress(Exception):
        await query.answer(text, show_alert=alert)


async def _btn_list(update, context, kb, lang, state, page: int) -> None:
    await _answer_quietly(update.callback_query)
    await show_list(update, context, page=page)


async def _btn_doc(update, context, kb, lang, state, doc_id: str) -> None:
    await _answer_quietly(update.callback_query)
    await show_document(update, context, doc_id)


async def _draft(context: BotContext, row_id: int):
    from retrieval.errors import IngestError

    row = await context.db(registry.get_row, row_id)
    if row is None or row.status != "draft":
        raise IngestError("bad_state", "not a draft")
    return row


async def _btn_preview(update, context, kb, lang, state, row_id: int) -> None:
    row = await _draft(context, row_id)
    state["draft"] = row.id
    await state.save()
    await _answer_quietly(update.callback_query)
    await _send_preview(update, context, kb, row)


async def _btn_edit(update, context, kb, lang, state, row_id: int, code: str) -> None:
    field = FIELD_CODES[code]
    row = await _draft(context, row_id)
    state["edit"] = {"row": row.id, "field": field}
    await state.save()
    await _answer_quietly(update.callback_query)
    example = t(f"kb_example_{field}", lang) if field in ("date", "city") else ""
    await update.callback_query.message.reply_text(
        t("kb_ask_value", lang, field=t(f"kb_field_{field}", lang), example=example)
    )


async def _forget_draft(state: FlowState, row_id: int) -> None:
    """The draft `row_id` is about to be published or discarded: typed lines and awaited values no longer go
    to it. Stored BEFORE the registry changes, so a concurrent change (StateConflict: "tap again") means nothing
    was done yet. Should publishing then fail, the draft's own preview button opens it again."""
    if state.get("draft") == row_id:
        state.pop("draft", None)
    if (state.get("edit") or {}).get("row") == row_id:
        state.pop("edit", None)
    await state.save()


async def _btn_publish(update, context, kb, lang, state, row_id: int, notify: bool = True) -> None:
    query = update.callback_query
    await _draft(context, row_id)
    await _forget_draft(state, row_id)
    await _answer_quietly(query, t("kb_publishing", lang))
    await _drop_keyboard(query)
    await query.message.reply_text(t("kb_publishing", lang))
    result = await asyncio.to_thread(partial(kb.publish, row_id, _actor(update), notify=notify))
    silent = "" if notify else "\n\n" + _esc(t("kb_published_silently", lang))
    await _send(update, render_change(result, lang) + silent)


async def _btn_publish_silent(update, context, kb, lang, state, row_id: int) -> None:
    await _btn_publish(update, context, kb, lang, state, row_id, notify=False)


async def _btn_discard(update, context, kb, lang, state, row_id: int) -> None:
    query = update.callback_query
    await _draft(context, row_id)
    await _forget_draft(state, row_id)
    await _answer_quietly(query)
    await asyncio.to_thread(kb.discard, row_id, _actor(update))
    await _drop_keyboard(query)
    await query.message.reply_text(t("kb_discarded", lang))


async def _current(context: BotContext, doc_id: str):
    from retrieval.errors import IngestError

    row = await context.db(registry.current, doc_id)
    if row is None:
        raise IngestError("not_found", "no such document", doc_id=doc_id)
    return row


async def _btn_replace(update, context, kb, lang, state, doc_id: str) -> None:
    row = await _current(context, doc_id)
    state["replace"] = row.doc_id
    await state.save()
    await _answer_quietly(update.callback_query)
    await update.callback_query.message.reply_text(t("kb_send_new_version", lang, title=row.title))


async def _btn_retire(update, context, kb, lang, state, doc_id: str) -> None:
    """停用 asks first: what stops answering, and a button to confirm (or go back to the card)."""
    row = await _current(context, doc_id)
    await _answer_quietly(update.callback_query)
    if row.status != "published":
        await update.callback_query.message.reply_text(t("kb_err_bad_state", lang))
        return
    keyboard = InlineKeyboardMarkup(
        [[
            _button(t("kb_btn_retire_confirm", lang), A_RETIRE_CONFIRMED, row.doc_id),
            _button(t("kb_btn_cancel", lang), A_DOC, row.doc_id),
        ]]
    )
    await _send(update, _esc(t("kb_retire_confirm", lang, title=row.title, version=row.version)), keyboard)


async def _btn_retire_confirmed(update, context, kb, lang, state, doc_id: str) -> None:
    query = update.callback_query
    await _current(context, doc_id)
    await _answer_quietly(query)
    await _drop_keyboard(query)
    result = await asyncio.to_thread(kb.retire, doc_id, _actor(update))
    await _send(update, render_change(result, lang))


async def _btn_restore(update, context, kb, lang, state, doc_id: str) -> None:
    await _current(context, doc_id)
    await _answer_quietly(update.callback_query, t("kb_publishing", lang))
    result = await asyncio.to_thread(kb.restore, doc_id, _actor(update))
    await _send(update, render_change(result, lang))


async def _btn_reindex(update, context, kb, lang, state) -> None:
    query = update.callback_query
    await _answer_quietly(query)
    await query.message.reply_text(t("kb_reindexing", lang))
    result = await asyncio.to_thread(kb.reindex, _actor(update))
    text = t(
        "kb_reindexed",
        lang,
        indexed=len(result.indexed),
        fixed=len(result.status_fixed),
        removed=len(result.removed),
        unchanged=result.unchanged,
        seconds=result.seconds,
    )
    if result.missing_files:
        text += "\n" + t("kb_reindex_missing", lang, ids=", ".join(result.missing_files))
    await query.message.reply_text(text)


async def _btn_roles(update, context, kb, lang, state) -> None:
    await _answer_quietly(update.callback_query)
    await show_roles(update, context)


_BUTTONS = {
    A_LIST: _btn_list,
    A_DOC: _btn_doc,
    A_PREVIEW: _btn_preview,
    A_EDIT: _btn_edit,
    A_PUBLISH: _btn_publish,
    A_PUBLISH_SILENT: _btn_publish_silent,
    A_DISCARD: _btn_discard,
    A_REPLACE: _btn_replace,
    A_RETIRE: _btn_retire,
    A_RETIRE_CONFIRMED: _btn_retire_confirmed,
    A_RESTORE: _btn_restore,
    A_REINDEX: _btn_reindex,
    A_ROLES: _btn_roles,
}
assert set(_BUTTONS) == set(CODEC.actions), "every declared button has a handler"


async def _drop_keyboard(query) -> None:
    try:
        await query.edit_message_reply_markup(reply_markup=None)
    except Exception:  # the message may be too old to edit; the registry state guards a double tap anyway
        log.debug("Could not remove the keyboard", exc_info=True)


# --- Roles ----------------------------------------------------------------------------------------------------


async def show_roles(update: Update, context: BotContext) -> None:
    lang = context.language
    rt = context.runtime
    people = await context.db(roles.people_with_roles, admin_ids=rt.settings.admin_ids)
    lines = [t("kb_roles_title", lang)]
    lines.extend(
        _esc(
            t("kb_roles_line", lang, id=uid, name=f" {name}" if name else "", role=t(f"kb_role_{role}", lang))
        )
        for uid, role, name in people
    )
    lines.append(_esc(t("kb_roles_help", lang)))
    await _send(update, "\n".join(lines))


async def roles_command(update: Update, context: BotContext) -> None:
    """`/roles`: who is staff, admin or operator (staff only; private chats: it lists people)."""
    if not await require_private_chat(update, context):
        return
    if await check_role(update, context, roles.STAFF, action="/roles"):
        await show_roles(update, context)


def _command_args(context: BotContext, *types, optional: int = 0) -> tuple | None:
    """The command's arguments parsed by `bot.command_args` (None when missing, extra or out of range)."""
    try:
        return parse_args(context.args, *types, optional=optional)
    except ArgumentError:
        return None


#: What each role command needs: the role, and the action named in the log and the audit log.
_ROLE_CHECKS = {
    "grant": (roles.ADMIN, "grant {}"),
    "revoke": (roles.ADMIN, "revoke"),
    "link": (roles.STAFF, "link operator"),
    "unlink": (roles.STAFF, "unlink operator"),
}
_REFUSED = object()


def _refusal(needed: str) -> str:
    return "kb_refused_admin" if needed == roles.ADMIN else "kb_refused"


async def _role_change(update: Update, context: BotContext, command: str, fn, *args):
    """Check the role in a unit of its own (a refusal stays in the audit log), then run the change `fn(actor,
    *args)` (which checks again) in another; `_REFUSED` after telling the user why it was not done."""
    rt = context.runtime
    lang = context.language
    needed, action = _ROLE_CHECKS[command]
    action = action.format(*args[1:])
    if not await check_role(update, context, needed, action=action, refusal=_refusal(needed)):
        return _REFUSED
    actor = Actor(update.effective_user.id)
    try:
        return await context.db(fn, actor, *args, admin_ids=rt.settings.admin_ids)
    except roles.RoleRequired:  # the role was taken away in between
        await update.effective_message.reply_text(t(_refusal(needed), lang))
    except roles.RoleError as exc:
        if exc.code == "settings_admin":
            text = t("kb_role_settings_admin", lang, id=args[0])
        elif exc.code == "no_institution":
            text = t("kb_role_no_institution", lang, inst=args[-1])
        elif exc.code == "bad_role":
            text = t("kb_usage_grant", lang)
        else:
            text = t("kb_err_failed", lang)
        await update.effective_message.reply_text(text)
    return _REFUSED


async def _usage(update: Update, context: BotContext, key: str, needed: str, action: str) -> None:
    """Malformed arguments: the usage text for those allowed to use the command, the refusal for others."""
    if await check_role(update, context, needed, action=action, refusal=_refusal(needed)):
        await update.effective_message.reply_text(t(key, context.language))


async def grant_command(update: Update, context: BotContext) -> None:
    """`/grant USER_ID [staff|admin]` (admins only)."""
    lang = context.language
    if context.args and len(context.args) > 1:
        context.args[1] = context.args[1].lower()
    parsed = _command_args(context, USER_ID, Choice(roles.GRANTABLE), optional=1)
    if parsed is None:
        await _usage(update, context, "kb_usage_grant", roles.ADMIN, "/grant")
        return
    user_id, role = parsed[0], parsed[1] or roles.STAFF
    new = await _role_change(update, context, "grant", roles.grant_role, user_id, role)
    if new is not _REFUSED:
        await update.effective_message.reply_text(t("kb_granted", lang, id=user_id, role=t(f"kb_role_{new}", lang)))


async def revoke_command(update: Update, context: BotContext) -> None:
    """`/revoke USER_ID` (admins only)."""
    lang = context.language
    parsed = _command_args(context, USER_ID)
    if parsed is None:
        await _usage(update, context, "kb_usage_revoke", roles.ADMIN, "/revoke")
        return
    new = await _role_change(update, context, "revoke", roles.revoke_role, parsed[0])
    if new is not _REFUSED:
        await update.effective_message.reply_text(t("kb_revoked", lang, id=parsed[0], role=t(f"kb_role_{new}", lang)))


async def link_command(update: Update, context: BotContext) -> None:
    """`/link USER_ID INSTITUTION_ID`: make the user the institution's operator (staff and admins)."""
    parsed = _command_args(context, USER_ID, RECORD_ID)
    if parsed is None:
        await _usage(update, context, "kb_usage_link", roles.STAFF, "/link")
        return
    user_id, institution_id = parsed
    name = await _role_change(update, context, "link", roles.link_operator, user_id, institution_id)
    if name is not _REFUSED:
        await update.effective_message.reply_text(
            t("kb_linked", context.language, id=user_id, name=name, inst=institution_id)
        )


async def unlink_command(update: Update, context: BotContext) -> None:
    """`/unlink INSTITUTION_ID` (staff and admins)."""
    parsed = _command_args(context, RECORD_ID)
    if parsed is None:
        await _usage(update, context, "kb_usage_unlink", roles.STAFF, "/unlink")
        return
    (institution_id,) = parsed
    if await _role_change(update, context, "unlink", roles.unlink_operator, institution_id) is not _REFUSED:
        await update.effective_message.reply_text(t("kb_unlinked", context.language, inst=institution_id))


# --- Registration ----------------------------------------------------------------------------------------------


def register(application: Application) -> None:
    """Register this flow's handlers (before the catch-all handlers)."""
    # A group of its own, ahead of the other flows' early groups (in a group only the first match runs).
    # Private chats only: a draft preview (or a refusal) is never posted to a group.
    private = filters.ChatType.PRIVATE
    application.add_handler(
        MessageHandler(private & filters.Document.ALL, claim_staff_document), group=STAFF_GROUP
    )
    application.add_handler(
        MessageHandler(private & filters.TEXT & ~filters.COMMAND, claim_staff_reply), group=STAFF_GROUP
    )
    application.add_handler(CommandHandler("kb", kb_command))
    application.add_handler(CommandHandler("grant", grant_command))
    application.add_handler(CommandHandler("revoke", revoke_command))
    application.add_handler(CommandHandler("link", link_command))
    application.add_handler(CommandHandler("unlink", unlink_command))
    application.add_handler(CommandHandler("roles", roles_command))
    application.add_handler(CallbackQueryHandler(kb_callback, pattern=CODEC.pattern))
    application.add_handler(MessageHandler(private & filters.Document.ALL, refuse_document))
