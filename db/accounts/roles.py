"""Roles: parent (default), operator (linked to an institution), staff, admin.

The first admins come from a setting (ADMIN_USER_IDS, passed in as `admin_ids`: nothing in `db/` reads
bot settings); they and admins granted later may grant and revoke staff and admins. Staff and admins link
operators to institutions. Every check runs here, on the server side; a refused attempt is logged and
recorded in the audit log. Functions take the caller's session; a change and its audit entry commit together.

A refusal must stay in the audit log although the refused action then fails (and its unit rolls back), so the
check is a unit of work of its own, before the action's:

    with session_scope(engine) as session:                       # or: await context.db(roles.authorize, …)
        role = authorize(user_id, STAFF, session=session, admin_ids=settings.admin_ids, action="kb")
    if role is None: ...                                          # refused: the `denied` entry is committed

`require_role` is the same check raising `RoleRequired`; the role changes call it again inside their own unit
(defence in depth: a refused change never happens, whoever calls it). An admin passes every check;
`require_role(..., OPERATOR)` admits operators, staff do not count as operators.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlmodel import Session, select

from db.core import audit
from db.core.audit import Actor
from db.models import Institution, User

log = logging.getLogger(__name__)

PARENT, OPERATOR, STAFF, ADMIN = "parent", "operator", "staff", "admin"
ROLES = (PARENT, OPERATOR, STAFF, ADMIN)
#: Roles an admin can hand out with `grant_role` (operator comes from `link_operator`).
GRANTABLE = (STAFF, ADMIN)


class RoleRequired(PermissionError):
    """The user lacks the role an action needs."""

    def __init__(self, telegram_id: int, needed: tuple[str, ...], has: str, action: str = "") -> None:
        super().__init__(f"user {telegram_id} is {has}; {action or 'this'} needs {' or '.join(needed)}")
        self.telegram_id = telegram_id
        self.needed = needed
        self.has = has
        self.action = action


class RoleError(ValueError):
    """A role change that cannot be made (unknown role, unknown institution, a settings admin…)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def effective_role(telegram_id: int, *, session: Session, admin_ids: Iterable[int] = ()) -> str:
    """The user's role: `admin` for the ADMIN_USER_IDS, else the stored role (parent for a stranger)."""
    if telegram_id in set(admin_ids):
        return ADMIN
    user = session.get(User, telegram_id)
    role = user.role if user is not None else PARENT
    return role if role in ROLES else PARENT


def has_role(telegram_id: int, *allowed: str, session: Session, admin_ids: Iterable[int] = ()) -> bool:
    """True when the user's role is one of `allowed` (an admin always is). Records nothing."""
    role = effective_role(telegram_id, session=session, admin_ids=admin_ids)
    return role == ADMIN or role in allowed


def authorize(
    telegram_id: int, *allowed: str, session: Session, admin_ids: Iterable[int] = (), action: str = ""
) -> str | None:
    """The user's role when it is one of `allowed` (or admin); otherwise None, the attempt logged and a
    `denied` entry added to `session` (run this as its own unit so that the entry commits)."""
    role = effective_role(telegram_id, session=session, admin_ids=admin_ids)
    if role == ADMIN or role in allowed:
        return role
    log.warning("Refused %s to user %s (role %s, needs %s)", action or "an action", telegram_id, role, allowed)
    audit.record_by(
        Actor(telegram_id), "denied", session=session,
        detail=f"{action or 'action'} needs {'/'.join(allowed)}; user is {role}",
    )
    return None


def require_role(
    telegram_id: int, *allowed: str, session: Session, admin_ids: Iterable[int] = (), action: str = ""
) -> str:
    """`authorize`, raising `RoleRequired` when refused (the `denied` entry is in `session`: it commits only
    if the caller's unit does; see the module docstring)."""
    role = authorize(telegram_id, *allowed, session=session, admin_ids=admin_ids, action=action)
    if role is None:
        has = effective_role(telegram_id, session=session, admin_ids=admin_ids)
        raise RoleRequired(telegram_id, tuple(allowed), has, action)
    return role


def _check_actor(actor: Actor, needed: str, session: Session, admin_ids: Iterable[int], action: str) -> None:
    """Refuse a Telegram user without the role `needed`; the command line (no Telegram id) is trusted."""
    if actor.telegram_id is not None:
        require_role(actor.telegram_id, needed, session=session, admin_ids=admin_ids, action=action)


def _user(session: Session, telegram_id: int) -> User:
    user = session.get(User, telegram_id)
    if user is None:
        user = User(telegram_id=telegram_id)
        session.add(user)
    return user


def _institution(session: Session, institution_id: int) -> Institution:
    institution = session.get(Institution, institution_id)
    if institution is None:
        raise RoleError("no_institution", f"no institution with id {institution_id}")
    return institution


def _record(actor: Actor, action: str, detail: str, session: Session) -> None:
    audit.record_by(actor, action, session=session, detail=detail)
    session.flush()


def grant_role(
    actor: Actor, telegram_id: int, role: str, *, session: Session, admin_ids: Iterable[int] = ()
) -> str:
    """Make `telegram_id` staff or admin. Only an admin may (an `actor` without a Telegram id is the command
    line: trusted). Returns the new role."""
    if role not in GRANTABLE:
        raise RoleError("bad_role", f"{role!r} cannot be granted; use one of {', '.join(GRANTABLE)}")
    _check_actor(actor, ADMIN, session, admin_ids, f"grant {role}")
    user = _user(session, telegram_id)
    before = user.role
    user.role = role
    _record(actor, "grant", f"user {telegram_id}: {before} → {role}", session)
    return role


def revoke_role(actor: Actor, telegram_id: int, *, session: Session, admin_ids: Iterable[int] = ()) -> str:
    """Take staff/admin away: the user becomes an operator again if linked to an institution, else a parent.
    Admins from ADMIN_USER_IDS cannot be revoked here (change the setting). Returns the new role."""
    admin_ids = set(admin_ids)
    _check_actor(actor, ADMIN, session, admin_ids, "revoke")
    if telegram_id in admin_ids:
        raise RoleError("settings_admin", f"user {telegram_id} is an admin by the ADMIN_USER_IDS setting")
    user = _user(session, telegram_id)
    before = user.role
    linked = session.exec(select(Institution.id).where(Institution.operator_user_id == telegram_id)).first()
    user.role = OPERATOR if linked is not None else PARENT
    _record(actor, "revoke", f"user {telegram_id}: {before} → {user.role}", session)
    return user.role


def link_operator(
    actor: Actor, telegram_id: int, institution_id: int, *, session: Session, admin_ids: Iterable[int] = ()
) -> str:
    """Link a user to the institution they run (staff or admin only). A parent becomes an operator; staff
    and admins keep their role. Returns the institution's name."""
    _check_actor(actor, STAFF, session, admin_ids, "link operator")
    institution = _institution(session, institution_id)
    previous = institution.operator_user_id
    institution.operator_user_id = telegram_id
    user = _user(session, telegram_id)
    if user.role == PARENT:
        user.role = OPERATOR
    if previous is not None and previous != telegram_id:
        _demote_if_unlinked(session, previous, institution_id)
    detail = f"user {telegram_id} → institution {institution_id} ({institution.name}); was {previous}"
    _record(actor, "link_operator", detail, session)
    return institution.name


def unlink_operator(
    actor: Actor, institution_id: int, *, session: Session, admin_ids: Iterable[int] = ()
) -> int | None:
    """Remove the institution's operator link; returns the user who was linked (None if nobody)."""
    _check_actor(actor, STAFF, session, admin_ids, "unlink operator")
    institution = _institution(session, institution_id)
    previous = institution.operator_user_id
    institution.operator_user_id = None
    if previous is not None:
        _demote_if_unlinked(session, previous, institution_id)
    _record(actor, "unlink_operator", f"institution {institution_id}: operator {previous} unlinked", session)
    return previous


def _demote_if_unlinked(session: Session, telegram_id: int, except_institution: int) -> None:
    session.flush()
    others = session.exec(
        select(Institution.id).where(
            Institution.operator_user_id == telegram_id, Institution.id != except_institution
        )
    ).first()
    user = session.get(User, telegram_id)
    if user is not None and user.role == OPERATOR and others is None:
        user.role = PARENT


def operator_institutions(telegram_id: int, *, session: Session) -> list[int]:
    """Ids of the institutions linked to this operator."""
    query = select(Institution.id).where(Institution.operator_user_id == telegram_id)
    return list(session.exec(query.order_by(Institution.id)))


def people_with_roles(*, session: Session, admin_ids: Iterable[int] = ()) -> list[tuple[int, str, str]]:
    """(telegram id, role, display name) of everyone who is not a plain parent, settings admins included."""
    rows = session.exec(select(User).where(User.role != PARENT).order_by(User.telegram_id)).all()
    people = {u.telegram_id: (u.telegram_id, u.role, u.display_name) for u in rows}
    for admin in set(admin_ids):
        user = session.get(User, admin)
        people[admin] = (admin, ADMIN, user.display_name if user else "")
    return [people[k] for k in sorted(people)]
