"""Hybrid search: BM25 over jieba tokens + dense vectors in Chroma, fused by weighted reciprocal rank,
restricted to the documents of the city a question names, with a lexical confidence for refusals."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import bm25s
import numpy as np

from retrieval.embedding import Embedder
from retrieval.query import Gazetteer, Glossary, load_gazetteer, load_glossary
from retrieval.store import ChunkStore, IndexedChunk
from retrieval.tokenize import content_chars, load_stopwords, load_user_dictionary, tokenize

logging.getLogger("bm25s").setLevel(logging.WARNING)


@dataclass(frozen=True)
class SearchParams:
    """Tunable knobs, chosen on the development question set (see README, "Retrieval")."""

    candidates: int = 30  # passages taken from each retriever before fusion
    rrf_k: float = 5.0
    bm25_weight: float = 1.0
    dense_weight: float = 0.3
    # Below this idf-weighted share of the question's characters found in one of the best passages,
    # refuse. On the dev set answerable questions score ≥ 0.26, off-topic ones ≤ 0.17.
    min_coverage: float = 0.2
    # Another city's passage counts as an answer too when it scores this close to the best one.
    other_city_ratio: float = 0.75


@dataclass
class Hit:
    """One ranked passage with the evidence for its rank."""

    item: IndexedChunk
    score: float
    bm25_rank: int | None
    dense_rank: int | None
    dense_similarity: float
    coverage: float


@dataclass
class SearchResult:
    """Ranked passages plus what the question said about places, and whether to trust the answer."""

    question: str
    hits: list[Hit]
    query_terms: list[str]
    cities: list[str] = field(default_factory=list)  # documented cities the question names
    unknown_places: list[str] = field(default_factory=list)  # named places we have no documents for
    confidence: float = 0.0
    answer_cities: list[str] = field(default_factory=list)

    @property
    def confident(self) -> bool:
        """True when the documents answer the question."""
        return bool(self.hits) and self.confidence > 0 and not (self.unknown_places and not self.cities)


class HybridSearcher:
    """Searches the passages of one chunk store. Build once, query many times (thread-safe for reads)."""

    def __init__(
        self,
        store: ChunkStore,
        embedder: Embedder,
        knowledge_dir: Path,
        params: SearchParams | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.params = params or SearchParams()
        load_user_dictionary(knowledge_dir / "jieba_userdict.txt")
        self.stopwords = load_stopwords(knowledge_dir / "stopwords.txt")
        self.gazetteer: Gazetteer = load_gazetteer(knowledge_dir / "places.yaml")
        self.glossary: Glossary = load_glossary(knowledge_dir / "glossary.yaml")
        self.reload()

    def reload(self) -> None:
        """Re-read the passages from the store and rebuild the lexical index."""
        self.items = self.store.all_chunks()
        self.by_id = {item.chunk.chunk_id: item for item in self.items}
        self.token_sets: list[set[str]] = []
        self.char_sets: list[set[str]] = []
        corpus: list[list[str]] = []
        for item in self.items:
            text = lexical_text(item)
            tokens = tokenize(text, self.stopwords)
            corpus.append(tokens)
            self.token_sets.append(set(tokens))
            self.char_sets.append(content_chars(text, self.stopwords))
        self.doc_freq: dict[str, int] = {}
        for tokens in self.token_sets:
            for token in tokens:
                self.doc_freq[token] = self.doc_freq.get(token, 0) + 1
        self.bm25 = bm25s.BM25()
        if corpus:
            self.bm25.index(corpus, show_progress=False)
        self.city_docs: dict[str, list[str]] = {}
        for item in self.items:
            docs = self.city_docs.setdefault(item.meta.city, [])
            if item.meta.doc_id not in docs:
                docs.append(item.meta.doc_id)
        self.position = {item.chunk.chunk_id: i for i, item in enumerate(self.items)}

    def idf(self, term: str) -> float:
        """Inverse document frequency; unseen terms weigh the most (an unknown topic lowers confidence)."""
        n = max(len(self.items), 1)
        df = self.doc_freq.get(term, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def query_terms(self, question: str, with_chars: bool = True) -> list[str]:
        """The question's topic terms: its tokens and English-glossary expansions, without place names."""
        expansion = self.glossary.expand(question)
        text = self.gazetteer.strip_places(question) + " " + " ".join(expansion)
        places = {p for p in self.gazetteer.documented} | set(self.gazetteer.undocumented)
        tokens = tokenize(text, self.stopwords, with_chars=with_chars)
        terms = [t for t in tokens if t not in places and not (t.isascii() and expansion)]
        return list(dict.fromkeys(terms))

    def search(self, question: str, k: int = 5) -> SearchResult:
        """The `k` best passages for `question`, with places and confidence."""
        cities, unknown = self.gazetteer.find(question)
        terms = self.query_terms(question)
        result = SearchResult(question=question, hits=[], query_terms=terms, cities=cities, unknown_places=unknown)
        if not self.items or (unknown and not cities):
            return result
        allowed_docs = [d for city in cities for d in self.city_docs.get(city, [])] or None
        allowed_positions = (
            np.array([i for i, item in enumerate(self.items) if item.meta.doc_id in allowed_docs])
            if allowed_docs
            else None
        )
        p = self.params
        bm25_ranked = self._bm25_ranking(terms + cities, allowed_positions)[: p.candidates]
        vector = self.embedder.encode([question + " " + " ".join(self.glossary.expand(question))])[0]
        dense = self.store.dense_search(vector, p.candidates, allowed_docs)

        fused: dict[str, float] = {}
        bm25_rank = {cid: rank for rank, cid in enumerate(bm25_ranked)}
        dense_rank = {cid: rank for rank, (cid, _) in enumerate(dense)}
        for cid, rank in bm25_rank.items():
            fused[cid] = fused.get(cid, 0.0) + p.bm25_weight / (p.rrf_k + rank + 1)
        for cid, rank in dense_rank.items():
            fused[cid] = fused.get(cid, 0.0) + p.dense_weight / (p.rrf_k + rank + 1)
        similarity = dict(dense)
        ranked = sorted(fused.items(), key=lambda kv: -kv[1])
        words = self.query_terms(question, with_chars=False)
        question_chars = content_chars(" ".join(words), self.stopwords)
        total_weight = sum(self.idf(c) for c in question_chars) or 1.0
        for cid, score in ranked[:k]:
            item = self.by_id.get(cid)
            if item is None:  # the store changed under us; the next reload catches up
                continue
            covered = self.char_sets[self.position[cid]]
            coverage = sum(self.idf(c) for c in question_chars if c in covered) / total_weight
            result.hits.append(
                Hit(item, score, bm25_rank.get(cid), dense_rank.get(cid), similarity.get(cid, 0.0), coverage)
            )
        result.confidence = max((h.coverage for h in result.hits[:3]), default=0.0)
        # Shared characters alone are weak evidence (天 and 气 occur in 天然气): ask for a shared word too.
        words = [w for w in words if len(w) > 1]
        word_match = any(w in self.token_sets[self.position[h.item.chunk.chunk_id]] for h in result.hits[:3] for w in words)
        if result.confidence < p.min_coverage or not word_match:
            result.confidence = 0.0
        result.answer_cities = self._answer_cities(result)
        return result

    def _bm25_ranking(self, terms: list[str], allowed_positions: np.ndarray | None) -> list[str]:
        if not terms:
            return []
        scores = np.asarray(self.bm25.get_scores(terms), dtype=np.float64)
        if allowed_positions is not None:
            mask = np.full(scores.shape, -1.0)
            mask[allowed_positions] = scores[allowed_positions]
            scores = mask
        order = np.argsort(-scores, kind="stable")
        return [self.items[i].chunk.chunk_id for i in order if scores[i] > 0]

    def _answer_cities(self, result: SearchResult) -> list[str]:
        """Cities whose passages answer: the named ones, or every city scoring close to the best."""
        if result.cities or not result.hits:
            return list(result.cities) or ([result.hits[0].item.meta.city] if result.hits else [])
        best = result.hits[0].score
        cities: list[str] = []
        for hit in result.hits[:3]:
            close = hit.score >= self.params.other_city_ratio * best
            if close and hit.coverage >= self.params.min_coverage and hit.item.meta.city not in cities:
                cities.append(hit.item.meta.city)
        return cities or [result.hits[0].item.meta.city]


def lexical_text(item: IndexedChunk) -> str:
    """What BM25 sees for a passage: city, title and outline path add context the text alone lacks."""
    return f"{item.meta.city} {item.meta.title} {' '.join(item.chunk.section)} {item.chunk.text}"
