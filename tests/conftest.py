"""Shared fixtures: a real policy index (real Chroma, the real bundled embedding model) built once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.settings import KNOWLEDGE_DIR, Settings
from tests.fakes.llm import RecordingFakeModel

# Fixture modules shared by many test files: their fixtures are available everywhere without an import.
pytest_plugins = [
    "tests.db_fixtures",
    "tests.fakes.fixtures",
    "tests.fakes.chroma_server",
    "tests.e2e_harness",
    "tests.care_harness",
    "tests.workers_harness",
    "tests.kb_cli_harness",
]

DEV_SET = Path(__file__).resolve().parent.parent / "knowledge" / "eval" / "policy_qa_dev.jsonl"


@pytest.fixture(scope="session")
def embedder():
    """The bundled multilingual model, loaded once per test run."""
    from retrieval.embedding import load_embedder

    return load_embedder()


@pytest.fixture(scope="session")
def policy_index_dir(tmp_path_factory) -> Path:
    """A data directory whose policy index is built once per test run."""
    return tmp_path_factory.mktemp("policy-data")


@pytest.fixture(scope="session")
def policy_service(policy_index_dir, embedder):
    """A PolicyService over the five initial documents (index built on first use)."""
    from retrieval.service import PolicyService

    service = PolicyService(policy_index_dir / "index", KNOWLEDGE_DIR, embedder=embedder)
    service.build()
    return service


@pytest.fixture(scope="session")
def built_policy_index(policy_service, policy_index_dir) -> Path:
    """The directory of the policy index, built once per test run: copy it to give a bot process its own."""
    return policy_index_dir / "index"


@pytest.fixture
def service_with(policy_service, policy_index_dir, embedder):
    """`service_with(responses)`: a PolicyService over the built index whose LLM (a `RecordingFakeModel`, at
    `service.llm`) answers `responses` in turn."""
    from retrieval.service import PolicyService, ServiceOptions

    def make(responses: list[str]) -> PolicyService:
        llm = RecordingFakeModel(responses=responses, prompts=[])
        return PolicyService(policy_index_dir / "index", KNOWLEDGE_DIR, embedder=embedder, options=ServiceOptions(llm=llm))

    return make


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Settings isolated in a temporary data directory (SQLite, embedded Chroma)."""
    return Settings(_env_file=None, data_dir=tmp_path / "data", telegram_bot_token="", database_url="")


@pytest.fixture(scope="session")
def dev_questions() -> list[dict]:
    """The development question set."""
    return [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
