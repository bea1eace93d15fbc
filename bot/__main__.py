"""`python -m bot ...` — the command line of 托育助手 (contracts: docs/contracts.md)."""

from bot.cli import main

raise SystemExit(main())
