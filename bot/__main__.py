"""`python -m bot ...` — the command line of 托育助手 (see README and DESIGN.md for the contracts)."""

from bot.cli import main

raise SystemExit(main())
