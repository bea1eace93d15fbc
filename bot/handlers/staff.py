"""Staff keep the knowledge base current (/kb, document uploads) and admins manage roles (/grant, /revoke,
/link, /unlink, /roles).

Handlers stay thin: roles are checked in `db.accounts.roles` (on the server side, for every command, button and
upload), the knowledge-base work happens in `knowledge.admin.KnowledgeBase`, texts and keyboards are built in
`staff_views`. The handlers live in `staff_uploads` (documents, typed field values), `staff_buttons` (every `kb:`
button), `staff_roles` (/roles, /grant, /revoke, /link, /unlink); `staff_common` holds what they share. This
module has /kb and registers them all.

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

import logging

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.context import BotContext
from bot.handlers.common import require_private_chat
from bot.handlers.staff_buttons import kb_callback
from bot.handlers.staff_common import FLOW, check_role, show_list
from bot.handlers.staff_roles import (
    grant_command,
    link_command,
    revoke_command,
    roles_command,
    unlink_command,
)
from bot.handlers.staff_uploads import claim_staff_document, claim_staff_reply, refuse_document
from bot.handlers.staff_views import (  # noqa: F401  (re-exported: the tests and other flows use them)
    CODEC,
    error_text,
    preview_keyboard,
    render_change,
    render_preview,
    render_quality,
)
from bot.state import StateConflict, flow_state
from db.accounts import roles

log = logging.getLogger(__name__)

#: The handler group of the early "is this a staff member's upload or typed field value?" checks.
STAFF_GROUP = -20


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
