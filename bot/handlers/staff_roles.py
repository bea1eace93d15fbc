"""Roles: `/roles` lists who is staff, admin or operator; admins `/grant` and `/revoke`, staff and admins `/link`
and `/unlink` operators. Each change checks the role in a unit of its own first (a refusal stays in the audit
log), then makes the change, which checks again, with its audit entry in one unit."""

from __future__ import annotations

from telegram import Update

from bot.callbacks import Choice
from bot.command_args import RECORD_ID, USER_ID, ArgumentError, parse_args
from bot.context import BotContext
from bot.handlers.common import require_private_chat
from bot.handlers.staff_common import check_role, refusal, send
from bot.handlers.staff_views import roles_view
from bot.texts import t
from db.accounts import roles
from db.core.audit import Actor

#: What each role change needs: the role, and the action as the log and the audit log name it.
_ROLE_CHECKS = {
    roles.grant_role: (roles.ADMIN, "grant {}"),
    roles.revoke_role: (roles.ADMIN, "revoke"),
    roles.link_operator: (roles.STAFF, "link operator"),
    roles.unlink_operator: (roles.STAFF, "unlink operator"),
}
#: `_role_change`'s answer when the change was not made (the user has been told why).
REFUSED = object()


async def show_roles(update: Update, context: BotContext) -> None:
    """Who is staff, admin or operator (settings admins included)."""
    people = await context.db(roles.people_with_roles, admin_ids=context.runtime.settings.admin_ids)
    await send(update, roles_view(people, context.language))


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


def _role_error_text(exc: roles.RoleError, args: tuple, lang: str) -> str:
    if exc.code == "settings_admin":
        return t("kb_role_settings_admin", lang, id=args[0])
    if exc.code == "no_institution":
        return t("kb_role_no_institution", lang, inst=args[-1])
    if exc.code == "bad_role":
        return t("kb_usage_grant", lang)
    return t("kb_err_failed", lang)


async def _role_change(update: Update, context: BotContext, change, *args):
    """`change(actor, *args)` for the user of this update: their role checked first in a unit of its own, the
    change (which checks again) in another. Its result, or `REFUSED` after telling the user why not."""
    lang = context.language
    needed, action = _ROLE_CHECKS[change]
    action = action.format(*args[1:])
    if not await check_role(update, context, needed, action=action, refusal=refusal(needed)):
        return REFUSED
    try:
        admin_ids = context.runtime.settings.admin_ids
        return await context.db(change, Actor(update.effective_user.id), *args, admin_ids=admin_ids)
    except roles.RoleRequired:  # the role was taken away in between
        await update.effective_message.reply_text(t(refusal(needed), lang))
    except roles.RoleError as exc:
        await update.effective_message.reply_text(_role_error_text(exc, args, lang))
    return REFUSED


async def _usage(update: Update, context: BotContext, key: str, needed: str, action: str) -> None:
    """Malformed arguments: the usage text for those allowed to use the command, the refusal for others."""
    if await check_role(update, context, needed, action=action, refusal=refusal(needed)):
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
    new = await _role_change(update, context, roles.grant_role, user_id, role)
    if new is not REFUSED:
        await update.effective_message.reply_text(t("kb_granted", lang, id=user_id, role=t(f"kb_role_{new}", lang)))


async def revoke_command(update: Update, context: BotContext) -> None:
    """`/revoke USER_ID` (admins only)."""
    lang = context.language
    parsed = _command_args(context, USER_ID)
    if parsed is None:
        await _usage(update, context, "kb_usage_revoke", roles.ADMIN, "/revoke")
        return
    new = await _role_change(update, context, roles.revoke_role, parsed[0])
    if new is not REFUSED:
        await update.effective_message.reply_text(t("kb_revoked", lang, id=parsed[0], role=t(f"kb_role_{new}", lang)))


async def link_command(update: Update, context: BotContext) -> None:
    """`/link USER_ID INSTITUTION_ID`: make the user the institution's operator (staff and admins)."""
    parsed = _command_args(context, USER_ID, RECORD_ID)
    if parsed is None:
        await _usage(update, context, "kb_usage_link", roles.STAFF, "/link")
        return
    user_id, institution_id = parsed
    name = await _role_change(update, context, roles.link_operator, user_id, institution_id)
    if name is not REFUSED:
        text = t("kb_linked", context.language, id=user_id, name=name, inst=institution_id)
        await update.effective_message.reply_text(text)


async def unlink_command(update: Update, context: BotContext) -> None:
    """`/unlink INSTITUTION_ID` (staff and admins)."""
    parsed = _command_args(context, RECORD_ID)
    if parsed is None:
        await _usage(update, context, "kb_usage_unlink", roles.STAFF, "/unlink")
        return
    (institution_id,) = parsed
    if await _role_change(update, context, roles.unlink_operator, institution_id) is not REFUSED:
        await update.effective_message.reply_text(t("kb_unlinked", context.language, inst=institution_id))
