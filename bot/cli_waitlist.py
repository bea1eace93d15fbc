"""Waitlist commands: `waitlist join|leave|list` (issue 12 §1).

Same contract as the care commands (docs/contracts.md): with `--json` each prints one JSON object; a failure
exits 1 and prints `{"error": CODE, "message": ...}` (codes: db.waitlist.ERROR_MESSAGES). The database
`DATABASE_URL` names is opened and upgraded first. No model library is imported.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from bot.cli_care import CliError, _emit, _report, _run_unit, add_child_arguments, add_own_row_arguments
from bot.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Register `waitlist join|leave|list`."""
    waitlist = subparsers.add_parser("waitlist", help="queue for a full temporary-care session (排队)")
    sub = waitlist.add_subparsers(dest="waitlist_command", required=True)

    join = sub.add_parser("join", help="join the queue of a full session")
    add_child_arguments(join)
    join.add_argument("--json", action="store_true")
    join.set_defaults(func=cmd_waitlist_join)

    leave = sub.add_parser("leave", help="leave a queue (an offered place passes to the next in line)")
    add_own_row_arguments(leave, "entry_id", cmd_waitlist_leave)

    listing = sub.add_parser("list", help="a parent's queue entries with their positions")
    listing.add_argument("--user", type=int, required=True)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_waitlist_list)


def _waitlist_errors(body: Callable) -> Callable:
    """`body`, with waitlist rule failures turned into the CLI error contract."""

    def wrapped(session) -> int:
        from db.care.waitlist import WaitlistError

        try:
            return body(session)
        except WaitlistError as exc:
            raise CliError(exc.code, exc.message) from None

    return wrapped


def _describe(view) -> str:
    where = f"{view.institution_name} · {view.date.isoformat()} {view.start_time:%H:%M}–{view.end_time:%H:%M}"
    child = f" · 孩子:{view.child_name}" if view.child_name else ""
    if view.status == "offered":
        from db.core.timeutil import to_local

        until = to_local(view.offer_expires_at).strftime("%m-%d %H:%M") if view.offer_expires_at else "—"
        return f"#{view.entry_id}  有名额为您保留至 {until}(名额编号 {view.offer_id})  {where}{child}"
    return f"#{view.entry_id}  排第 {view.position} 位  {where}{child}"


def cmd_waitlist_join(args: argparse.Namespace, settings: Settings) -> int:
    """`python -m bot waitlist join --session ID --user ID --child-age-months M [--child NAME] [--json]`."""

    @_waitlist_errors
    def body(session) -> int:
        from db.care.waitlist import PlaceRequest, join

        view = join(PlaceRequest(args.session, args.user, args.child_age_months, args.child), session=session)
        return _report(
            args, {"entry_id": view.entry_id, "position": view.position, "status": view.status},
            f"已加入排队 (joined the waitlist): {_describe(view)}",
        )

    return _run_unit(args, settings, body)


def cmd_waitlist_leave(args: argparse.Namespace, settings: Settings) -> int:
    """`python -m bot waitlist leave ENTRY_ID --user ID [--json]`."""

    @_waitlist_errors
    def body(session) -> int:
        from db.care.waitlist import leave

        view = leave(args.entry_id, args.user, session=session)
        return _report(
            args, {"entry_id": view.entry_id, "status": view.status}, f"已退出排队 #{view.entry_id} (left the waitlist)."
        )

    return _run_unit(args, settings, body)


def cmd_waitlist_list(args: argparse.Namespace, settings: Settings) -> int:
    """`python -m bot waitlist list --user ID [--json]` — active entries of upcoming sessions."""

    @_waitlist_errors
    def body(session) -> int:
        from db.care.waitlist import entries_for_parent

        views = entries_for_parent(args.user, session=session)
        if args.json:
            _emit({"entries": [v.to_dict() for v in views]})
            return 0
        if not views:
            print("没有排队。")
            return 0
        for view in views:
            print(_describe(view))
        return 0

    return _run_unit(args, settings, body)
