"""Command-line entry point: parses arguments and dispatches to the command modules.

Each command module exposes `register(subparsers)`; a sub-parser sets `func(args, settings) -> int`.
Command modules import heavy libraries (torch, the embedding model) lazily, inside their functions,
so that `slots`/`book`/`bookings` stay fast and model-free.
"""

from __future__ import annotations

import argparse
import sys

from bot.settings import configure_layers, get_settings


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command registered."""
    from bot import cli_alerts, cli_care, cli_kb, cli_policy, cli_waitlist, cli_webhook

    parser = argparse.ArgumentParser(prog="python -m bot", description="托育助手 command line")
    subparsers = parser.add_subparsers(dest="command", required=True)
    cli_policy.register(subparsers)
    cli_care.register(subparsers)
    cli_kb.register(subparsers)
    cli_waitlist.register(subparsers)
    cli_alerts.register(subparsers)
    cli_webhook.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the process exit code."""
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8")
    parser = build_parser()
    args = parser.parse_args(argv)
    settings = get_settings()
    configure_layers(settings)
    return int(args.func(args, settings) or 0)
