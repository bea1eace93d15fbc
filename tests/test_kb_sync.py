"""A growing knowledge base: a change costs its document (the searcher is updated in place, not rebuilt), other
workers follow the change log in the database within `sync_seconds`, and a worker starts from its saved
lexical snapshot — catching up on what changed while it was down — and answers exactly as if it had been
built from the store. Real embedded Chroma, real SQLite and PostgreSQL; a hashing stand-in for the model."""

from __future__ import annotations

import shutil

import pytest

from bot.settings import KNOWLEDGE_DIR
from db.core.engine import make_engine, run_unit
from db.core.migrate import upgrade_to_head
from db.knowledge import changes as knowledge_changes
from db.knowledge.changes import ChangeLog
from db.knowledge.registry import Actor
from knowledge.admin import KnowledgeBase
from knowledge.uploads import Upload
from retrieval.search import HybridSearcher
from retrieval.service import PolicyService, ServiceOptions
from tests.kb_fixtures import SHENZHEN_QUESTION, SHENZHEN_V1, SHENZHEN_V2, HashEmbedder

STAFF = Actor(telegram_id=7)
QUESTIONS = [
    SHENZHEN_QUESTION,
    "深圳普惠托育机构全日托收费上限是多少？",
    "张家港托育补贴标准是多少？",
    "台州托育补贴政策有哪些？",
    "厦门托育机构从业人员有什么要求？",
    "普惠托育是什么？",
    "How much is the childcare subsidy in Shenzhen?",
]


def worker(index_dir, engine, **options) -> PolicyService:
    return PolicyService(
        index_dir, KNOWLEDGE_DIR, embedder=HashEmbedder(), change_feed=ChangeLog(engine),
        options=ServiceOptions(**{"sync_seconds": 0, **options}),
    )


def ranking(service_or_searcher, questions=QUESTIONS) -> list[list[tuple[str, float]]]:
    searcher = getattr(service_or_searcher, "searcher", service_or_searcher)
    return [[(h.item.chunk.chunk_id, round(h.rerank, 9)) for h in searcher.search(q).hits] for q in questions]


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'kb.sqlite3'}")
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


def test_changes_update_the_searcher_in_place_and_rank_as_a_rebuild_would(engine, tmp_path):
    service = worker(tmp_path / "index", engine)
    service.build()
    kb = KnowledgeBase(engine, service, dev_set=None)
    corpus = service.searcher.corpus
    draft = kb.ingest(Upload(SHENZHEN_V1.encode(), "shenzhen.txt"), STAFF)
    kb.publish(draft.id, STAFF, evaluate=False)
    assert service.searcher.corpus is corpus, "a publish rebuilt the whole searcher"
    assert service.ask(SHENZHEN_QUESTION).answered
    kb.publish(kb.ingest(Upload(SHENZHEN_V2.encode(), "v2.txt", replace_doc_id="shenzhen"), STAFF).id, STAFF, evaluate=False)
    kb.retire("taizhou", STAFF, evaluate=False)
    kb.restore("taizhou", STAFF, evaluate=False)
    kb.retire("daqing", STAFF, evaluate=False)
    assert service.searcher.corpus is corpus
    assert "800元" in service.ask(SHENZHEN_QUESTION).quotes[0].text
    rebuilt = HybridSearcher(service.store, service.embedder, KNOWLEDGE_DIR)
    assert ranking(service) == ranking(rebuilt)
    assert sorted(i.chunk.chunk_id for i in service.searcher.items) == sorted(i.chunk.chunk_id for i in rebuilt.items)


def test_a_change_through_one_worker_reaches_the_other_through_the_database(db_engine, tmp_path):
    engine = db_engine
    first = worker(tmp_path / "index", engine)
    first.build()
    first.searcher  # noqa: B018
    second = worker(tmp_path / "index", engine, snapshot=False)
    assert not second.ask(SHENZHEN_QUESTION).answered
    corpus = second.searcher.corpus
    kb = KnowledgeBase(engine, first, dev_set=None)
    kb.publish(kb.ingest(Upload(SHENZHEN_V1.encode(), "shenzhen.txt"), STAFF).id, STAFF, evaluate=False)
    answer = second.ask(SHENZHEN_QUESTION)
    assert answer.answered and "500元" in answer.quotes[0].text
    assert second.searcher.corpus is corpus, "the other worker re-read everything instead of one document"
    kb.retire("shenzhen", STAFF, evaluate=False)
    assert second.ask(SHENZHEN_QUESTION).reason == "no_documents_for_place"
    assert second.synced_generation == first.synced_generation == run_unit(engine, knowledge_changes.current_generation)


def test_sync_waits_sync_seconds_and_survives_an_unreadable_change_log(engine, tmp_path):
    first = worker(tmp_path / "index", engine)
    first.build()
    second = PolicyService(
        tmp_path / "index", KNOWLEDGE_DIR, embedder=HashEmbedder(), change_feed=ChangeLog(engine),
        options=ServiceOptions(sync_seconds=3600, snapshot=False),
    )
    second.searcher  # noqa: B018  (starts following the log)
    second.sync(force=True)
    kb = KnowledgeBase(engine, first, dev_set=None)
    kb.publish(kb.ingest(Upload(SHENZHEN_V1.encode(), "shenzhen.txt"), STAFF).id, STAFF, evaluate=False)
    assert not second.ask(SHENZHEN_QUESTION).answered, "checked the database before sync_seconds passed"
    assert second.sync(force=True) and second.ask(SHENZHEN_QUESTION).answered

    class Broken:
        def current(self):
            raise ConnectionError("database away")

        def since(self, generation):
            raise ConnectionError("database away")

    second.change_feed = Broken()
    assert not second.sync(force=True)
    assert second.ask(SHENZHEN_QUESTION).answered, "an unreadable change log stopped answers"


def test_a_restarted_worker_starts_from_its_snapshot_and_catches_up(engine, tmp_path, caplog):
    index = tmp_path / "index"
    first = worker(index, engine)
    first.build()
    before = ranking(first)
    snapshot = first.snapshot_path
    assert snapshot.exists() and oct(snapshot.stat().st_mode & 0o777) == "0o600"

    caplog.set_level("INFO", logger="retrieval.service")
    again = worker(index, engine)
    assert ranking(again) == before
    assert "from the snapshot" in caplog.text

    # Changes while a worker is down (made through another one) are applied on top of its snapshot.
    kb = KnowledgeBase(engine, worker(index, engine, snapshot=False), dev_set=None)
    kb.publish(kb.ingest(Upload(SHENZHEN_V1.encode(), "shenzhen.txt"), STAFF).id, STAFF, evaluate=False)
    kb.retire("taizhou", STAFF, evaluate=False)
    caplog.clear()
    restarted = worker(index, engine)
    assert restarted.ask(SHENZHEN_QUESTION).answered
    assert restarted.ask("台州托育补贴政策有哪些？").reason == "no_documents_for_place"
    assert "from the snapshot" in caplog.text
    rebuilt = HybridSearcher(restarted.store, restarted.embedder, KNOWLEDGE_DIR)
    assert ranking(restarted) == ranking(rebuilt)


def test_a_snapshot_that_does_not_match_the_store_is_not_used(engine, tmp_path, caplog):
    index = tmp_path / "index"
    first = PolicyService(index, KNOWLEDGE_DIR, embedder=HashEmbedder())  # no change log: compares documents
    first.build()
    first.searcher  # noqa: B018
    saved = first.snapshot_path.read_bytes()
    first.store.set_status("taizhou", "retired")  # behind the snapshot's back
    caplog.set_level("INFO", logger="retrieval.service")
    second = PolicyService(index, KNOWLEDGE_DIR, embedder=HashEmbedder())
    assert second.ask("台州托育补贴政策有哪些？").reason == "no_documents_for_place"
    assert "from the store" in caplog.text

    # A damaged file is rebuilt, not trusted.
    first.snapshot_path.write_bytes(saved[: len(saved) // 2])
    caplog.clear()
    third = PolicyService(index, KNOWLEDGE_DIR, embedder=HashEmbedder())
    assert third.ask("台州托育补贴政策有哪些？").reason == "no_documents_for_place"
    assert "from the store" in caplog.text

    # A re-index logged in the database makes every worker re-read the store.
    fourth = worker(index, engine)
    fourth.searcher  # noqa: B018
    first.store.set_status("taizhou", "published")
    run_unit(engine, knowledge_changes.record_change, knowledge_changes.NewChange("reindex"))
    assert fourth.ask("台州托育补贴政策有哪些？").answered


def test_a_copied_snapshot_of_another_collection_is_ignored(engine, tmp_path, caplog):
    first = worker(tmp_path / "a", engine)
    first.build()
    first.searcher  # noqa: B018
    second = worker(tmp_path / "b", engine)
    second.build()
    shutil.copy(first.snapshot_path, second.snapshot_path)
    caplog.set_level("INFO", logger="retrieval.service")
    assert ranking(worker(tmp_path / "b", engine)) == ranking(first)
    assert "from the store" in caplog.text


def test_the_whole_store_is_read_in_pages(tmp_path, monkeypatch):
    """A single `get` of ~100,000 passages fails in Chroma's SQLite; the store reads a page at a time."""
    from retrieval import store as store_module

    service = PolicyService(tmp_path / "index", KNOWLEDGE_DIR, embedder=HashEmbedder(), options=ServiceOptions(snapshot=False))
    service.build()
    everything = service.store.all_chunks(include_inactive=True)
    documents = service.store.documents()
    monkeypatch.setattr(store_module, "_PAGE", 7)
    calls = []
    real_get = service.store.collection.get

    def counting_get(**query):
        calls.append(query.get("limit"))
        return real_get(**query)

    monkeypatch.setattr(service.store.collection, "get", counting_get)
    assert service.store.all_chunks(include_inactive=True) == everything
    assert len(calls) == len(everything) // 7 + 1 and set(calls) == {7}
    assert service.store.documents() == documents


def test_a_build_in_batches_ranks_as_a_build_at_once(tmp_path, monkeypatch):
    from retrieval import search as search_module

    service = PolicyService(tmp_path / "index", KNOWLEDGE_DIR, embedder=HashEmbedder(), options=ServiceOptions(snapshot=False))
    service.build()
    at_once = service.searcher
    monkeypatch.setattr(search_module, "_BUILD_BATCH", 7)  # documents straddle batches
    batched = HybridSearcher(service.store, service.embedder, KNOWLEDGE_DIR)
    assert [i.chunk.chunk_id for i in batched.items] == [i.chunk.chunk_id for i in at_once.items]
    assert ranking(batched) == ranking(at_once)


def test_dense_search_within_a_city_matches_chromas(tmp_path):
    """Questions naming a place are searched within its documents from the vectors held in memory: the same
    passages, in the same order, as Chroma's filtered search."""
    from tests.conftest import DEV_SET

    service = PolicyService(tmp_path / "index", KNOWLEDGE_DIR, embedder=HashEmbedder(), options=ServiceOptions(snapshot=False))
    service.build()
    searcher = service.searcher
    assert searcher.corpus.vectors.complete
    import json

    import numpy as np

    compared = 0
    for line in DEV_SET.read_text(encoding="utf-8").splitlines()[:15]:
        question = json.loads(line)["question"]
        reading = searcher.gazetteer.read(question)
        docs = [d for city in reading.cities for d in searcher.corpus.city_docs.get(city, [])]
        if not docs:
            continue
        positions = np.array([s for d in docs for s in searcher.corpus.doc_slots[d]])
        vector = service.embedder.encode([question])[0]
        ours = searcher._dense_ranking(vector, 10, docs, positions)
        chroma = service.store.dense_search(vector, 10, docs)
        assert [cid for cid, _ in ours] == [cid for cid, _ in chroma]
        assert np.allclose([s for _, s in ours], [s for _, s in chroma], atol=1e-5)
        compared += 1
    assert compared >= 5
