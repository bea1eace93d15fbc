"""The `kb_cli` fixture: runs one `python -m bot kb …` command in-process, with the policy service built once
per test (the embedding model loaded once per test run).

Registered as a pytest plugin in tests/conftest.py, so the fixture needs no import."""

from __future__ import annotations

import pytest

from bot import cli_kb
from bot.cli import build_parser
from bot.settings import KNOWLEDGE_DIR
from db.knowledge.changes import ChangeLog
from retrieval.service import PolicyService
from tests.kb_fixtures import caching


@pytest.fixture
def kb_cli(settings, embedder, monkeypatch, capsys):
    """`kb_cli(*argv)` → (exit code, stdout); `kb_cli.services["service"]` is the service the commands used."""
    services = {}

    def make_service(settings, *, with_model, engine=None):
        if "service" not in services:
            feed = ChangeLog(engine) if engine is not None else None
            services["service"] = PolicyService(
                settings.index_dir, KNOWLEDGE_DIR, embedder=caching(embedder), change_feed=feed
            )
            services["service"].build()
        return services["service"]

    monkeypatch.setattr(cli_kb, "make_service", make_service)

    def run(*argv):
        args = build_parser().parse_args(["kb", *argv])
        code = args.func(args, settings)
        return code, capsys.readouterr().out

    run.services = services
    return run
