"""Roles: parent (default), operator (linked to an institution), staff, admin.

The first admins come from a setting (ADMIN_USER_IDS, passed in as `admin_ids`: nothing in `db/` reads
bot settings); they and admins granted later may grant and revoke staff and admins. Staff and admins link
operators to institutions. Every check runs here, on the server side; a refused attempt is logged and
recorded in the audit log.

    role = require_role(engine, user_id, STAFF, admin_ids=settings.admin_ids, action="kb")   # or RoleRequired

An admin passes every check; `require_role(..., OPERATOR)` admits operators, staff do not count as operators.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy.engine import Engine
from sqlmodel import select

from db.core.engine import session_scope
from db.knowledge.registry import record
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


def actor_label(telegram_id: int | None, cli_user: str = "") -> str:
    """How the audit log names who acted: `tg:<id>` or `cli:<login>`."""
    return f"tg:{telegram_id}" if telegram_id is not None else f"cli:{cli_user or 'unknown'}"


def effective_role(engine: Engine, telegram_id: int, admin_ids: Iterable[int] = ()) -> str:
    """The user's role: `admin` for the ADMIN_USER_IDS, else the stored role (parent for a stranger)."""
    if telegram_id in set(admin_ids):
        return ADMIN
    with session_scope(engine) as session:
        user = session.get(User, telegram_id)
        role = user.role if user is not None else PARENT
    return role if role in ROLES else PARENT


def has_role(engine: Engine, telegram_id: int, *allowed: str, admin_ids: Iterable[int] = ()) -> bool:
    """True when the user's role is one of `allowed` (an admin always is)."""
    role = effective_role(engine, telegram_id, admin_ids)
    return role == ADMIN or role in allowed


def require_role(
    engine: Engine, telegram_id: int, *allowed: str, admin_ids: Iterable[int] = (), action: str = ""
) -> str:
    """The user's role when it is one of `allowed` (or admin); otherwise log the attempt, record it in
    the audit log as `denied`, and raise `RoleRequired`."""
    role = effective_role(engine, telegram_id, admin_ids)
    if role == ADMIN or role in allowed:
        return role
    log.warning(
        "Refused %s to user %s (role %s, needs %s)", action or "an action", telegram_id, role, allowed
    )
    record(
        engine,
        actor_label(telegram_id),
        "denied",
        actor_id=telegram_id,
        detail=f"{action or 'action'} needs {'/'.join(allowed)}; user is {role}",
    )
    raise RoleRequired(telegram_id, tuple(allowed), role, action)


def _user(session, telegram_id: int) -> User:
    user = session.get(User, telegram_id)
    if user is None:
        user = User(telegram_id=telegram_id)
        session.add(user)
    return user


def grant_role(
    engine: Engine,
    actor_id: int | None,
    telegram_id: int,
    role: str,
    *,
    admin_ids: Iterable[int] = (),
    cli_user: str = "",
) -> str:
    """Make `telegram_id` staff or admin. Only an admin may (`actor_id` None: the command line, trusted).
    Returns the new role."""
    if role not in GRANTABLE:
        raise RoleError("bad_role", f"{role!r} cannot be granted; use one of {', '.join(GRANTABLE)}")
    if actor_id is not None:
        require_role(engine, actor_id, ADMIN, admin_ids=admin_ids, action=f"grant {role}")
    with session_scope(engine) as session:
        user = _user(session, telegram_id)
        before = user.role
        user.role = role
    record(
        engine,
        actor_label(actor_id, cli_user),
        "grant",
        actor_id=actor_id,
        detail=f"user {telegram_id}: {before} → {role}",
    )
    return role


def revoke_role(
    engine: Engine,
    actor_id: int | None,
    telegram_id: int,
    *,
    admin_ids: Iterable[int] = (),
    cli_user: str = "",
) -> str:
    """Take staff/admin away: the user becomes an operator again if linked to an institution, else a parent.
    Admins from ADMIN_USER_IDS cannot be revoked here (change the setting). Returns the new role."""
    admin_ids = set(admin_ids)
    if actor_id is not None:
        require_role(engine, actor_id, ADMIN, admin_ids=admin_ids, action="revoke")
    if telegram_id in admin_ids:
        raise RoleError("settings_admin", f"user {telegram_id} is an admin by the ADMIN_USER_IDS setting")
    with session_scope(engine) as session:
        user = _user(session, telegram_id)
        before = user.role
        linked = session.exec(
            select(Institution.id).where(Institution.operator_user_id == telegram_id)
        ).first()
        user.role = OPERATOR if linked is not None else PARENT
        after = user.role
    record(
        engine,
        actor_label(actor_id, cli_user),
        "revoke",
        actor_id=actor_id,
        detail=f"user {telegram_id}: {before} → {after}",
    )
    return after


def link_operator(
    engine: Engine,
    actor_id: int | None,
    telegram_id: int,
    institution_id: int,
    *,
    admin_ids: Iterable[int] = (),
    cli_user: str = "",
) -> str:
    """Link a user to the institution they run (staff or admin only). A parent becomes an operator; staff
    and admins keep their role. Returns the institution's name."""
    if actor_id is not None:
        require_role(engine, actor_id, STAFF, admin_ids=admin_ids, action="link operator")
    with session_scope(engine) as session:
        institution = session.get(Institution, institution_id)
        if institution is None:
            raise RoleError("no_institution", f"no institution with id {institution_id}")
        previous = institution.operator_user_id
        institution.operator_user_id = telegram_id
        name = institution.name
        user = _user(session, telegram_id)
        if user.role == PARENT:
            user.role = OPERATOR
        if previous is not None and previous != telegram_id:
            _demote_if_unlinked(session, previous, institution_id)
    record(
        engine,
        actor_label(actor_id, cli_user),
        "link_operator",
        actor_id=actor_id,
        detail=f"user {telegram_id} → institution {institution_id} ({name}); was {previous}",
    )
    return name


def unlink_operator(
    engine: Engine,
    actor_id: int | None,
    institution_id: int,
    *,
    admin_ids: Iterable[int] = (),
    cli_user: str = "",
) -> int | None:
    """Remove the institution's operator link; returns the user who was linked (None if nobody)."""
    if actor_id is not None:
        require_role(engine, actor_id, STAFF, admin_ids=admin_ids, action="unlink operator")
    with session_scope(engine) as session:
        institution = session.get(Institution, institution_id)
        if institution is None:
            raise RoleError("no_institution", f"no institution with id {institution_id}")
        previous = institution.operator_user_id
        institution.operator_user_id = None
        if previous is not None:
            _demote_if_unlinked(session, previous, institution_id)
    record(
        engine,
        actor_label(actor_id, cli_user),
        "unlink_operator",
        actor_id=actor_id,
        detail=f"institution {institution_id}: operator {previous} unlinked",
    )
    return previous


def _demote_if_unlinked(session, telegram_id: int, except_institution: int) -> None:
    others = session.exec(
        select(Institution.id).where(
            Institution.operator_user_id == telegram_id, Institution.id != except_institution
        )
    ).first()
    user = session.get(User, telegram_id)
    if user is not None and user.role == OPERATOR and others is None:
        user.role = PARENT


def operator_institutions(engine: Engine, telegram_id: int) -> list[int]:
    """Ids of the institutions linked to this operator."""
    with session_scope(engine) as session:
        return list(
            session.exec(
                select(Institution.id)
                .where(Institution.operator_user_id == telegram_id)
                .order_by(Institution.id)
            )
        )


def people_with_roles(engine: Engine, admin_ids: Iterable[int] = ()) -> list[tuple[int, str, str]]:
    """(telegram id, role, display name) of everyone who is not a plain parent, settings admins included."""
    admin_ids = set(admin_ids)
    with session_scope(engine) as session:
        rows = session.exec(select(User).where(User.role != PARENT).order_by(User.telegram_id)).all()
        people = {u.telegram_id: (u.telegram_id, u.role, u.display_name) for u in rows}
        for admin in admin_ids:
            user = session.get(User, admin)
            people[admin] = (admin, ADMIN, user.display_name if user else "")
    return [people[k] for k in sorted(people)]
