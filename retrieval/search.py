"""Hybrid search: BM25 over jieba tokens + dense vectors in Chroma, fused by weighted reciprocal rank,
restricted to the documents of the city a question names, with a lexical confidence for refusals."""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import bm25s
import numpy as np

from retrieval import answer_type
from retrieval.bilingual import BilingualIndex, content_words
from retrieval.embedding import Embedder
from retrieval.places import NATIONAL_CITY_NAMES, PlaceReading
from retrieval.query import Gazetteer, Glossary, load_gazetteer, load_glossary
from retrieval.salience import Salient, chinese_salient, coverage, english_salient, load_synonyms
from retrieval.store import ChunkStore, IndexedChunk
from retrieval.tokenize import content_chars, load_stopwords, load_user_dictionary, tokenize
from retrieval.units import quotable_units

logging.getLogger("bm25s").setLevel(logging.WARNING)


_CJK = re.compile(r"[\u3400-\u9fff]")


def is_english(text: str) -> bool:
    """True for a question written without Chinese characters."""
    return not _CJK.search(text) and bool(re.search(r"[A-Za-z]{2,}", text))


@dataclass(frozen=True)
class SearchParams:
    """Tunable knobs, chosen on the development question sets (see docs/policy-answers.md)."""

    candidates: int = 30  # passages taken from each retriever before fusion
    pool: int = 20  # fused passages re-ranked by what they state
    rrf_k: float = 5.0
    bm25_weight: float = 1.0
    dense_weight: float = 0.3
    # English questions meet Chinese passages through translated terms only; the multilingual dense model
    # reads the English itself, so it gets more say for them.
    dense_weight_english: float = 0.3
    # Another city's passage counts as an answer too when it scores this close to the best one.
    other_city_ratio: float = 0.75


@dataclass
class Hit:
    """One ranked passage with the evidence for its rank."""

    item: IndexedChunk
    score: float  # fused retrieval score
    bm25_rank: int | None
    dense_rank: int | None
    dense_similarity: float
    coverage: float  # weighted share of the question's salient words the passage covers
    states: bool = True  # the passage states the kind of fact asked for
    rerank: float = 0.0


@dataclass
class SearchResult:
    """Ranked passages plus what the question said about places, and what it asks for."""

    question: str
    hits: list[Hit]
    query_terms: list[str]
    cities: list[str] = field(default_factory=list)  # documented cities the question names
    unknown_places: list[str] = field(default_factory=list)  # named places we have no documents for
    nearby: dict[str, list[str]] = field(default_factory=dict)  # unknown place → documented places near it
    sub_places: list[str] = field(default_factory=list)  # towns/districts named inside a documented city
    national: bool = False  # a national question
    scope: str = ""  # "" | "out_of_scope" | "no_documents_for_place"
    kinds: list[str] = field(default_factory=list)  # kinds of fact asked for (answer_type)
    salient: list[Salient] = field(default_factory=list)
    english: bool = False
    answer_cities: list[str] = field(default_factory=list)

    @property
    def confident(self) -> bool:
        """True when the best passage answers (in scope, the fitted confidence over its threshold, and it
        states the kind of fact asked for)."""
        from retrieval.confidence import THRESHOLD, confidence, signals_of

        if self.scope or not self.hits:
            return False
        signals = signals_of(self)
        return bool(signals.states) and confidence(signals) >= THRESHOLD

    @property
    def specific_kinds(self) -> list[str]:
        """The asked kinds that need a stated value."""
        return [k for k in self.kinds if k in answer_type.SPECIFIC]


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
        self.synonyms = load_synonyms(knowledge_dir / "synonyms.yaml")
        self.reload()

    def reload(self) -> None:
        """Re-read the passages from the store and rebuild the lexical index."""
        self.items = self.store.all_chunks()
        self.by_id = {item.chunk.chunk_id: item for item in self.items}
        self.token_sets: list[set[str]] = []
        self.char_sets: list[set[str]] = []
        self.cover_texts: list[str] = []
        self.units: list[list[tuple[str, str]]] = []  # per passage: (sentence or row, its lower-cased context)
        corpus: list[list[str]] = []
        for item in self.items:
            text = lexical_text(item)
            tokens = tokenize(text, self.stopwords)
            corpus.append(tokens)
            self.token_sets.append(set(tokens))
            self.char_sets.append(content_chars(text, self.stopwords))
            # Coverage ignores the document's title: front matter repeating it is not about every question.
            title = item.meta.title
            section = " ".join(s for s in item.chunk.section if s != title)
            self.cover_texts.append(f"{section} {item.chunk.text}".replace(title, " ").lower())
            self.units.append(
                [(u, f"{section} {u}".replace(title, " ").lower()) for u in quotable_units(item.chunk.text)]
            )
        self.doc_freq: dict[str, int] = {}
        for tokens in self.token_sets:
            for token in tokens:
                self.doc_freq[token] = self.doc_freq.get(token, 0) + 1
        self.bm25 = bm25s.BM25()
        if corpus:
            self.bm25.index(corpus, show_progress=False)
        self.bilingual = BilingualIndex(t for tokens in self.token_sets for t in tokens)
        self.city_docs: dict[str, list[str]] = {}
        self.national_docs: list[str] = []
        for item in self.items:
            docs = self.city_docs.setdefault(item.meta.city, [])
            if item.meta.doc_id not in docs:
                docs.append(item.meta.doc_id)
            national = item.meta.level == "national" or item.meta.city in NATIONAL_CITY_NAMES
            if national and item.meta.doc_id not in self.national_docs:
                self.national_docs.append(item.meta.doc_id)
        self.position = {item.chunk.chunk_id: i for i, item in enumerate(self.items)}

    def idf(self, term: str) -> float:
        """Inverse document frequency; unseen terms weigh the most (an unknown topic lowers confidence)."""
        n = max(len(self.items), 1)
        df = self.doc_freq.get(term, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def renderings(self, question: str) -> dict[str, list[str]]:
        """English phrase → Chinese terms: the glossary first, CC-CEDICT for the rest of the words."""
        found = {p: list(t) for p, t in self.glossary.expand_phrases(question).items()}
        glossary_words = {w for p in found for w in content_words(p)}
        for phrase, terms in self.bilingual.expand(question).items():
            words = phrase.split()
            if all(w in glossary_words for w in words):
                continue
            found[phrase] = terms
        return found

    def query_terms(self, question: str, with_chars: bool = True) -> list[str]:
        """The question's topic terms: its tokens, document words for everyday ones and English renderings,
        without place names."""
        stripped = self.gazetteer.strip_places(question)
        if is_english(question):
            expansion = [t for terms in self.renderings(question).values() for t in terms]
        else:
            expansion = self.synonyms.expand(stripped)
        text = stripped + " " + " ".join(expansion)
        tokens = tokenize(text, self.stopwords, with_chars=with_chars)
        terms = [t for t in tokens if not (t.isascii() and expansion and not t.isdigit())]
        return list(dict.fromkeys(terms))

    def salient(self, question: str) -> list[Salient]:
        """The question's topic words with their weights."""
        stripped = self.gazetteer.strip_places(question)
        if is_english(question):
            renderings = self.renderings(stripped)
            return english_salient(content_words(stripped), renderings)
        return chinese_salient(stripped, self.stopwords, self.synonyms)

    def search(self, question: str, k: int = 5) -> SearchResult:
        """The `k` best passages for `question`, with places, scope and what the question asks for."""
        from retrieval.confidence import RERANK

        reading: PlaceReading = self.gazetteer.read(question)
        english = is_english(question)
        terms = self.query_terms(question)
        result = SearchResult(
            question=question,
            hits=[],
            query_terms=terms,
            cities=reading.cities,
            unknown_places=reading.unknown,
            nearby=reading.nearby,
            sub_places=reading.sub_places,
            national=reading.national,
            kinds=answer_type.detect_all(question),
            salient=self.salient(question),
            english=english,
        )
        if reading.unknown and not reading.cities:
            result.scope = "no_documents_for_place"
            return result
        if not self.items:
            return result
        allowed_docs: list[str] | None = [d for city in reading.cities for d in self.city_docs.get(city, [])] or None
        if reading.national:
            if not self.national_docs:
                result.scope = "out_of_scope"
                return result
            allowed_docs = list(self.national_docs)
        allowed_positions = (
            np.array([i for i, item in enumerate(self.items) if item.meta.doc_id in allowed_docs])
            if allowed_docs
            else None
        )
        p = self.params
        places = reading.sub_places + [n for n in reading.sub_place_names if n not in reading.sub_places]
        bm25_ranked = self._bm25_ranking(terms + places + reading.cities, allowed_positions)
        bm25_ranked = bm25_ranked[: p.candidates]
        expansion = [t for ts in self.renderings(question).values() for t in ts] if english else []
        vector = self.embedder.encode([question + " " + " ".join(expansion)])[0]
        dense = self.store.dense_search(vector, p.candidates, allowed_docs)

        fused: dict[str, float] = {}
        bm25_rank = {cid: rank for rank, cid in enumerate(bm25_ranked)}
        dense_rank = {cid: rank for rank, (cid, _) in enumerate(dense)}
        dense_weight = p.dense_weight_english if english else p.dense_weight
        for cid, rank in bm25_rank.items():
            fused[cid] = fused.get(cid, 0.0) + p.bm25_weight / (p.rrf_k + rank + 1)
        for cid, rank in dense_rank.items():
            fused[cid] = fused.get(cid, 0.0) + dense_weight / (p.rrf_k + rank + 1)
        similarity = dict(dense)
        ranked = sorted(fused.items(), key=lambda kv: -kv[1])[: p.pool]
        best = ranked[0][1] if ranked else 1.0
        specific = result.specific_kinds
        classifier = answer_type.asked_classifier(question)
        for cid, score in ranked:
            item = self.by_id.get(cid)
            if item is None:  # the store changed under us; the next reload catches up
                continue
            text = self.cover_texts[self.position[cid]]
            coverage = _coverage(result.salient, text)
            units = self.units[self.position[cid]]
            states, unit_score = stating(result.salient, specific, units, self._names_place, classifier)
            local = any(place in text for place in reading.sub_places)
            hit = Hit(item, score, bm25_rank.get(cid), dense_rank.get(cid), similarity.get(cid, 0.0), coverage, states)
            hit.rerank = (
                RERANK["retrieval"] * score / best
                + RERANK["coverage"] * coverage
                + RERANK["unit"] * unit_score
                + RERANK["sub_place"] * float(local)
            )
            result.hits.append(hit)
        result.hits.sort(key=lambda h: -h.rerank)
        result.hits = result.hits[:k]
        result.answer_cities = self._answer_cities(result)
        return result

    def _names_place(self, text: str) -> bool:
        """True when `text` names a place of the hierarchy (an answer to "where")."""
        return self.gazetteer.mentions_place(text)

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
        best = result.hits[0].rerank
        top = result.hits[0]
        cities: list[str] = [top.item.meta.city]
        for hit in result.hits[1:3]:
            close = hit.rerank >= self.params.other_city_ratio * best and hit.coverage >= 0.8 * top.coverage
            if close and hit.states and hit.item.meta.city not in cities:
                cities.append(hit.item.meta.city)
        return cities


def _coverage(salient: list[Salient], text: str) -> float:
    return coverage(salient, text)


RELEVANT_SHARE = 0.6  # a unit this close to the passage's most relevant one is "about the question"


def stating(
    salient: list[Salient],
    kinds: list[str],
    units: list[tuple[str, str]],
    names_place=None,
    classifier: str = "",
) -> tuple[bool, float]:
    """(states, unit score): whether a sentence (or table row) of the passage that is about the question
    states every kind of fact asked for — a number elsewhere in the passage does not answer — and the
    coverage of the best such sentence (of the best sentence at all for an open question)."""
    scored = [(coverage(salient, context), unit) for unit, context in units]
    best = max((c for c, _ in scored), default=0.0)
    if not kinds:
        return True, best

    def states(kind: str, unit: str) -> bool:
        if kind == answer_type.PLACE and names_place is not None and names_place(unit):
            return True
        return answer_type.states(kind, unit, classifier)

    stated = [c for c, u in scored if c >= RELEVANT_SHARE * best and all(states(kind, u) for kind in kinds)]
    return bool(stated), max(stated, default=0.0)


def lexical_text(item: IndexedChunk) -> str:
    """What BM25 sees for a passage: city, title and outline path add context the text alone lacks."""
    return f"{item.meta.city} {item.meta.title} {' '.join(item.chunk.section)} {item.chunk.text}"
