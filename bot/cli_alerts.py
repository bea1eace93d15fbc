"""Policy-change alert commands: `alerts status | follows --user U | follow --user U PLACE | unfollow --user U PLACE`.

Same contract as the care commands (docs/contracts.md): with `--json` each prints one JSON object; a failure
exits 1 and prints `{"error": CODE, "message": ...}`. No model library is imported; sending is the bot's job
(the alerts job where RUN_JOBS is on). Each command is one unit of work.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from bot.cli_care import CliError, _emit, _run
from bot.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Register `alerts status|follows|follow|unfollow`."""
    parser = subparsers.add_parser("alerts", help="policy-change alerts: follows and deliveries")
    sub = parser.add_subparsers(dest="alerts_command", required=True)
    _command(sub, "status", "the planner's cursor and deliveries per status", cmd_status, user=False)
    _command(sub, "follows", "the places a user follows", cmd_follows)
    for name, helptext in (("follow", "follow a place for a user"), ("unfollow", "stop following a place")):
        change = _command(sub, name, helptext, cmd_change)
        change.add_argument("place", help="a place name (张家港, 张家港市, 苏州市张家港市)")


def _command(sub: argparse._SubParsersAction, name: str, helptext: str, func: Callable, *,
             user: bool = True) -> argparse.ArgumentParser:
    """One `alerts` subcommand with `--json` (and `--user` unless `user` is false)."""
    command = sub.add_parser(name, help=helptext)
    if user:
        command.add_argument("--user", type=int, required=True)
    command.add_argument("--json", action="store_true")
    command.set_defaults(func=func)
    return command


def _in_session(work: Callable) -> Callable:
    """`work(session)` as a `_run` body: one unit of work on the opened database."""

    def body(engine) -> int:
        from db.core.engine import session_scope

        with session_scope(engine) as session:
            return work(session)

    return body


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    """`alerts status [--json]`: generation, cursor, follows and deliveries per status."""
    from db.knowledge import alerts
    from db.knowledge.changes import current_generation

    def work(session) -> int:
        follows, followers = alerts.follow_counts(session=session)
        generation, cursor = current_generation(session=session), alerts.cursor(session=session)
        out = {"generation": generation, "cursor": cursor, "behind": max(0, generation - cursor),
               "follows": follows, "followers": followers, "deliveries": alerts.delivery_counts(session=session)}
        if args.json:
            _emit(out)
        else:
            counts = "，".join(f"{k} {v}" for k, v in out["deliveries"].items())
            print(f"generation {generation}, alerts cursor {cursor} ({out['behind']} behind); "
                  f"{followers} followers of {follows} follows; deliveries: {counts}")
        return 0

    return _run(args, settings, _in_session(work))


def cmd_follows(args: argparse.Namespace, settings: Settings) -> int:
    """`alerts follows --user U [--json]`: the places a user follows."""
    from db.knowledge import alerts

    def work(session) -> int:
        places = alerts.follows_of(args.user, session=session)
        if args.json:
            _emit({"user": args.user, "places": places})
        else:
            print("\n".join(places) or "—")
        return 0

    return _run(args, settings, _in_session(work))


def cmd_change(args: argparse.Namespace, settings: Settings) -> int:
    """`alerts follow|unfollow --user U PLACE [--json]`."""
    from bot.alert_messages import EVERYONE, place_key
    from db.knowledge import alerts

    def work(session) -> int:
        key = place_key(args.place)
        if not key or key == EVERYONE:
            raise CliError("bad_place", f"不是一个地方 (not a place): {args.place}")
        if args.alerts_command == "follow":
            try:
                changed = alerts.follow(args.user, key, session=session)
            except alerts.FollowLimit as exc:
                raise CliError("limit", f"最多关注 {alerts.MAX_FOLLOWS} 个地方 (at most {alerts.MAX_FOLLOWS})") from exc
        else:
            changed = alerts.unfollow(args.user, key, session=session)
        if args.json:
            _emit({"user": args.user, "place": key, "changed": changed})
        else:
            print(f"{args.alerts_command} {key}: {'ok' if changed else 'unchanged'}")
        return 0

    return _run(args, settings, _in_session(work))
