"""Care commands (institutions, slots, bookings): placeholder until the care module lands."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Register the care commands."""
