"""Retrieval against a real Chroma server: `chroma run` on 127.0.0.1 (free port, temporary directory, stopped
at the end). The index is built over HTTP, the development set meets the quality bar, staff changes (publish,
replace, retire) work through the server, and CHROMA_HOST/CHROMA_PORT in the environment switch the bot to it."""

from __future__ import annotations

import pytest

from bot.settings import KNOWLEDGE_DIR, Settings
from db.core.engine import make_engine
from db.core.migrate import upgrade_to_head
from db.knowledge.registry import Actor
from knowledge.admin import KnowledgeBase
from knowledge.uploads import Upload
from retrieval.evaluation import evaluate, read_eval_file
from retrieval.service import PolicyService, ServiceOptions
from tests.conftest import DEV_SET
from tests.kb_fixtures import SHENZHEN_QUESTION, SHENZHEN_V1, SHENZHEN_V2, caching


@pytest.fixture(scope="module")
def server_service(chroma_server, embedder, tmp_path_factory):
    host, port = chroma_server
    index_dir = tmp_path_factory.mktemp("server-data") / "index"
    service = PolicyService(
        index_dir, KNOWLEDGE_DIR, embedder=caching(embedder), options=ServiceOptions(chroma_host=host, chroma_port=port)
    )
    report = service.build()
    assert {d.action for d in report.documents} == {"indexed"}
    return service


def test_index_built_on_the_server_meets_the_quality_bar(server_service, chroma_server):
    import chromadb

    host, port = chroma_server
    assert not (server_service.kb_dir.parent / "index" / "chroma").exists(), "nothing embedded on disk"
    client = chromadb.HttpClient(host=host, port=port)
    collection = client.get_collection(server_service.store.collection.name)
    assert collection.count() == len(server_service.searcher.items) > 100

    summary = evaluate(server_service.ask, read_eval_file(DEV_SET)).summary()
    assert summary["hit@5"] >= 0.95 and summary["mrr@5"] >= 0.85, summary
    assert summary["unanswerable_refused"] == summary["unanswerable"]
    assert summary["answerable_refused"] == 0
    answer = server_service.ask("张家港困境婴幼儿入托能减免多少费用？")
    assert answer.answered and any("减免500元/人/月" in s.text for s in answer.sources[:3])
    assert not server_service.build().changed, "a second build is a no-op"


def test_staff_changes_through_the_server(server_service, tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'kb.sqlite3'}")
    upgrade_to_head(engine)
    kb = KnowledgeBase(engine, server_service, dev_set=None)
    staff = Actor(telegram_id=1)
    try:
        row = kb.ingest(Upload(SHENZHEN_V1.encode(), "shenzhen.txt"), staff)
        kb.publish(row.id, staff, evaluate=False)
        assert "每人每月500元" in server_service.ask(SHENZHEN_QUESTION).quotes[0].text
        row = kb.ingest(Upload(SHENZHEN_V2.encode(), "shenzhen-2026.txt", replace_doc_id="shenzhen"), staff)
        kb.publish(row.id, staff, evaluate=False)
        assert "每人每月800元" in server_service.ask(SHENZHEN_QUESTION).quotes[0].text
        stored = server_service.store.documents()
        assert (stored["shenzhen"].status, stored["shenzhen-v2"].status) == ("replaced", "published")
        kb.retire("shenzhen", staff, evaluate=False)
        assert server_service.ask(SHENZHEN_QUESTION).reason == "no_documents_for_place"
    finally:
        engine.dispose()


def test_chroma_host_and_port_from_the_environment(chroma_server, monkeypatch, tmp_path):
    from bot.app import load_policy_service

    host, port = chroma_server
    monkeypatch.setenv("CHROMA_HOST", host)
    monkeypatch.setenv("CHROMA_PORT", str(port))
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")
    assert (settings.chroma_host, settings.chroma_port) == (host, port)
    service = load_policy_service(settings)
    assert not service.build().changed, "load_policy_service built (or found) the index on the server"
    assert not (settings.index_dir / "chroma").exists()
    assert service.ask("厦门每年新增多少个普惠托位？").answered
