"""Policy-change alert commands: `alerts status | follows --user U | follow --user U PLACE | unfollow --user U PLACE`.

Same contract as the care commands (docs/contracts.md): with `--json` each prints one JSON object; a failure
exits 1 and prints `{"error": CODE, "message": ...}`. No model library is imported; sending is the bot's job
(the alerts job where RUN_JOBS is on).
"""

from __future__ import annotations

import argparse

from bot.cli_care import CliError, _emit, _run
from bot.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Register `alerts status|follows|follow|unfollow`."""
    parser = subparsers.add_parser("alerts", help="policy-change alerts: follows and deliveries")
    sub = parser.add_subparsers(dest="alerts_command", required=True)

    status = sub.add_parser("status", help="the planner's cursor and deliveries per status")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)

    follows = sub.add_parser("follows", help="the places a user follows")
    follows.add_argument("--user", type=int, required=True)
    follows.add_argument("--json", action="store_true")
    follows.set_defaults(func=cmd_follows)

    for name, helptext in (("follow", "follow a place for a user"), ("unfollow", "stop following a place")):
        change = sub.add_parser(name, help=helptext)
        change.add_argument("place", help="a place name (张家港, 张家港市, 苏州市张家港市)")
        change.add_argument("--user", type=int, required=True)
        change.add_argument("--json", action="store_true")
        change.set_defaults(func=cmd_change)


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from sqlalchemy import func, select

    from db.core.engine import session_scope
    from db.knowledge import alerts
    from db.knowledge.changes import current_generation

    def body(engine) -> int:
        table = alerts.PolicyFollow.__table__
        with engine.connect() as conn:
            follows, followers = conn.execute(
                select(func.count(), func.count(func.distinct(table.c.user_id))).select_from(table)
            ).one()
        with session_scope(engine) as session:
            generation = current_generation(session=session)
        cursor = alerts.cursor(engine)
        out = {"generation": generation, "cursor": cursor, "behind": max(0, generation - cursor),
               "follows": int(follows), "followers": int(followers), "deliveries": alerts.delivery_counts(engine)}
        if args.json:
            _emit(out)
        else:
            counts = "，".join(f"{k} {v}" for k, v in out["deliveries"].items())
            print(f"generation {generation}, alerts cursor {cursor} ({out['behind']} behind); "
                  f"{followers} followers of {follows} follows; deliveries: {counts}")
        return 0

    return _run(args, settings, body)


def cmd_follows(args: argparse.Namespace, settings: Settings) -> int:
    from db.knowledge import alerts

    def body(engine) -> int:
        places = alerts.follows_of(engine, args.user)
        if args.json:
            _emit({"user": args.user, "places": places})
        else:
            print("\n".join(places) or "—")
        return 0

    return _run(args, settings, body)


def cmd_change(args: argparse.Namespace, settings: Settings) -> int:
    from bot.alert_messages import EVERYONE, place_key
    from db.knowledge import alerts

    def body(engine) -> int:
        key = place_key(args.place)
        if not key or key == EVERYONE:
            raise CliError("bad_place", f"不是一个地方 (not a place): {args.place}")
        if args.alerts_command == "follow":
            try:
                changed = alerts.follow(engine, args.user, key)
            except alerts.FollowLimit as exc:
                raise CliError("limit", f"最多关注 {alerts.MAX_FOLLOWS} 个地方 (at most {alerts.MAX_FOLLOWS})") from exc
        else:
            changed = alerts.unfollow(engine, args.user, key)
        if args.json:
            _emit({"user": args.user, "place": key, "changed": changed})
        else:
            print(f"{args.alerts_command} {key}: {'ok' if changed else 'unchanged'}")
        return 0

    return _run(args, settings, body)
