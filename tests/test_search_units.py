"""Tokenisation, fusion, city restriction and the refusal signal on a small hand-made store (real Chroma)."""

from __future__ import annotations

import pytest

from bot.settings import KNOWLEDGE_DIR
from retrieval.search import HybridSearcher, SearchParams
from retrieval.store import ChunkStore, PreparedDocument, open_chroma
from retrieval.tokenize import load_stopwords, load_user_dictionary, tokenize
from retrieval.types import Chunk, DocumentMeta

XIAMEN = DocumentMeta(doc_id="xm", title="厦门方案", city="厦门市")
OTHER = DocumentMeta(doc_id="zjg", title="张家港方案", city="张家港市")
PASSAGES = {
    XIAMEN: [
        "开展乳儿班、托小班激励性奖补，对普惠托育机构给予补助。",
        "托育机构每季度至少开展一次安全演练。",
        "鼓励用人单位提供托育服务。",
    ],
    OTHER: [
        "托育机构收托困境婴幼儿的，减免500元/人/月。",
        "开展乳儿班建设，提高托位供给。",
    ],
}


@pytest.fixture(scope="module")
def searcher(tmp_path_factory, embedder):
    store = ChunkStore(open_chroma(tmp_path_factory.mktemp("units")), "policy-units")
    for meta, texts in PASSAGES.items():
        chunks = [Chunk(f"{meta.doc_id}:{i:04d}", meta.doc_id, i, ("一、任务",), t) for i, t in enumerate(texts)]
        store.replace_document(PreparedDocument(meta, chunks, embedder.encode([c.text for c in chunks]), "h"))
    return HybridSearcher(store, embedder, KNOWLEDGE_DIR, SearchParams())


def test_tokenize_keeps_domain_terms_whole_and_adds_characters():
    load_user_dictionary(KNOWLEDGE_DIR / "jieba_userdict.txt")
    stop = load_stopwords(KNOWLEDGE_DIR / "stopwords.txt")
    tokens = tokenize("普惠托育机构开设乳儿班吗？", stop)
    assert "普惠托育机构" in tokens and "乳儿班" in tokens and "托育" in tokens
    assert "班" in tokens, "single characters bridge different segmentations"
    assert "吗" not in tokens and "？" not in tokens
    assert tokenize("Temporary CARE", stop, with_chars=False) == ["temporary", "care"]


def test_passage_found_by_both_retrievers_ranks_first(searcher):
    result = searcher.search("乳儿班有激励性奖补吗？")
    assert result.hits[0].item.chunk.chunk_id == "xm:0000"
    assert result.hits[0].bm25_rank == 0 and result.hits[0].dense_rank is not None


def test_named_city_restricts_results(searcher):
    result = searcher.search("张家港乳儿班")
    assert result.cities == ["张家港市"]
    assert {h.item.meta.city for h in result.hits} == {"张家港市"}


def test_refusal_signal(searcher):
    assert searcher.search("托育机构多久做一次安全演练？").confident
    assert not searcher.search("今天天气怎么样？").confident
    unknown = searcher.search("深圳乳儿班奖补")
    assert unknown.unknown_places == ["深圳"] and not unknown.confident and unknown.hits == []


def test_no_city_and_similar_scores_across_cities_lists_each(searcher):
    result = searcher.search("乳儿班")
    assert set(result.answer_cities) == {"厦门市", "张家港市"}
