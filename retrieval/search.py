"""Hybrid search: BM25 over jieba tokens + dense vectors in Chroma, fused by weighted reciprocal rank,
restricted to the documents of the city a question names, with a lexical confidence for refusals."""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from retrieval import answer_type
from retrieval.bilingual import BilingualIndex, content_words, singular
from retrieval.confidence import RERANK, THRESHOLD, confidence, signals_of
from retrieval.corpus import Corpus, lexical_text  # noqa: F401  (lexical_text: re-exported)
from retrieval.counted import CAPACITY_FORMS, asks_capacity, counted_phrase, counted_phrase_english
from retrieval.embedding import Embedder
from retrieval.places import PlaceReading
from retrieval.query import Gazetteer, Glossary, is_english, load_gazetteer, load_glossary
from retrieval.question_refs import given_figures
from retrieval.salience import (
    Salient,
    chinese_salient,
    coverage,
    english_salient,
    load_synonyms,
)
from retrieval.store import ChunkStore, IndexedChunk
from retrieval.subject import place_subject
from retrieval.tokenize import CJK_CHAR, load_stopwords, load_user_dictionary, tokenize
from retrieval.topicality import load_topic_words, off_topic
from retrieval.types import DocumentMeta
from retrieval.units import TABLE_CELL, is_table

_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_BUILD_BATCH = 2000  # passages tokenised at a time when the lexical index is built from the store


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
    off_topic: bool = False  # not about childcare at all (retrieval.topicality): out of scope
    scope: str = ""  # "" | "out_of_scope" | "no_documents_for_place"
    kinds: list[str] = field(default_factory=list)  # kinds of fact asked for (answer_type)
    salient: list[Salient] = field(default_factory=list)
    english: bool = False
    answer_cities: list[str] = field(default_factory=list)
    asked: answer_type.Asked = answer_type.ANYTHING  # what is asked beyond the kind (answer_type.asked_of)

    @property
    def confident(self) -> bool:
        """True when the best passage answers (in scope, the fitted confidence over its threshold, and it
        states the kind of fact asked for)."""
        if self.scope or not self.hits:
            return False
        signals = signals_of(self)
        return bool(signals.states) and confidence(signals) >= THRESHOLD

    @property
    def specific_kinds(self) -> list[str]:
        """The asked kinds that need a stated value."""
        return [k for k in self.kinds if k in answer_type.SPECIFIC]


class HybridSearcher:
    """Searches the passages of one chunk store. Build once, query many times (thread-safe); `apply` brings
    in the changes of some documents at a cost proportional to them."""

    def __init__(
        self,
        store: ChunkStore,
        embedder: Embedder,
        knowledge_dir: Path,
        params: SearchParams | None = None,
        corpus: Corpus | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.params = params or SearchParams()
        load_user_dictionary(knowledge_dir / "jieba_userdict.txt")
        self.stopwords = load_stopwords(knowledge_dir / "stopwords.txt")
        self.base_gazetteer: Gazetteer = load_gazetteer(knowledge_dir / "places.yaml")
        self.gazetteer: Gazetteer = self.base_gazetteer
        self.glossary: Glossary = load_glossary(knowledge_dir / "glossary.yaml")
        self.synonyms = load_synonyms(knowledge_dir / "synonyms.yaml")
        self.topic_words = load_topic_words(knowledge_dir / "topic_words.yaml")
        self.corpus = corpus or Corpus(self.stopwords)
        self._bilingual: BilingualIndex | None = None
        self._bilingual_words = 0  # corpus words (lexical term ids) the bilingual index has seen
        self._bilingual_lock = threading.Lock()
        if corpus is None:
            self.reload()
        else:
            self._places_changed()

    def _known_word(self, word: str) -> bool:
        return self.corpus.lexical.has_term(word)

    @property
    def bilingual(self) -> BilingualIndex:
        """English → corpus words; built at the first English question, then extended with new words only."""
        with self._bilingual_lock:
            if self._bilingual is None:
                self._bilingual = BilingualIndex(known=self._known_word)
            terms = self.corpus.lexical.terms
            if len(terms) > self._bilingual_words:
                self._bilingual.add_words(terms[self._bilingual_words :])
                self._bilingual_words = len(terms)
            return self._bilingual

    def reload(self) -> None:
        """Re-read every passage from the store and rebuild the lexical index."""
        corpus = Corpus(self.stopwords)
        items = self.store.all_chunks(with_vectors=True)
        for start in range(0, len(items), _BUILD_BATCH):  # tokens of a batch at a time, not of every passage
            corpus.extend(corpus.prepare(items[start : start + _BUILD_BATCH]))
        with self._bilingual_lock:
            self.corpus = corpus
            self._bilingual, self._bilingual_words = None, 0  # a new vocabulary numbering
        self._places_changed()

    def apply(self, doc_ids: list[str]) -> None:
        """Bring the passages of `doc_ids` in line with the store: published ones answer, retired, replaced
        or deleted ones stop answering. Everything else is untouched."""
        doc_ids = list(dict.fromkeys(doc_ids))
        prepared = self.corpus.prepare(self.store.document_chunks(doc_ids, with_vectors=True)) if doc_ids else []
        self.corpus.replace(doc_ids, prepared)
        self._places_changed()

    def _places_changed(self) -> None:
        self.gazetteer = live_gazetteer(self.base_gazetteer, list(self.corpus.docs.values()))

    @property
    def items(self) -> list[IndexedChunk]:
        """The answering passages."""
        return self.corpus.items

    @property
    def by_id(self) -> dict[str, IndexedChunk]:
        """chunk id → answering passage."""
        return self.corpus.by_id

    def cities(self) -> list[str]:
        """The cities with answering documents, sorted."""
        return sorted({meta.city for meta in self.corpus.docs.values()})

    def idf(self, term: str) -> float:
        """Inverse document frequency; unseen terms weigh the most (an unknown topic lowers confidence)."""
        n = max(len(self.corpus), 1)
        df = self.corpus.lexical.document_frequency(term)
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
            # Chinese words an English question gives ("baby care stations (驿站)") are the surest of all.
            chinese = chinese_salient(" ".join(_CJK_RUN.findall(stripped)), self.stopwords, self.synonyms, self._known_word)
            return english_salient(content_words(stripped), renderings, given_figures(stripped)) + chinese
        return chinese_salient(stripped, self.stopwords, self.synonyms, self._known_word)

    def search(self, question: str, k: int = 5) -> SearchResult:
        """The `k` best passages for `question`, with places, scope and what the question asks for."""
        with self.corpus.lock.reading():
            return self._search(question, k)

    def _search(self, question: str, k: int) -> SearchResult:
        corpus = self.corpus
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
        if not len(corpus):
            return result
        allowed_docs: list[str] | None = [d for city in reading.cities for d in corpus.city_docs.get(city, [])] or None
        if reading.national:
            if not corpus.national_docs:
                result.scope = "out_of_scope"
                return result
            allowed_docs = list(corpus.national_docs)
        allowed_positions = (
            np.array([slot for doc_id in allowed_docs for slot in corpus.doc_slots.get(doc_id, [])], dtype=np.int64)
            if allowed_docs
            else None
        )
        p = self.params
        places = reading.sub_places + [n for n in reading.sub_place_names if n not in reading.sub_places]
        bm25_ranked = self._bm25_ranking(terms + places + reading.cities, allowed_positions)
        bm25_ranked = bm25_ranked[: p.candidates]
        expansion = [t for ts in self.renderings(question).values() for t in ts] if english else []
        vector = self.embedder.encode([question + " " + " ".join(expansion)])[0]
        dense = self._dense_ranking(vector, p.candidates, allowed_docs, allowed_positions)

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
        asked = result.asked = self._asked(result)
        # 的 is mostly left out of the documents' compounds (婴幼儿的健康管理率 → 婴幼儿健康管理率).
        runs = _CJK_RUN.findall(self.gazetteer.strip_places(question).replace("的", ""))
        # A place the question does not name answers "where" (思明区); the city it asks about does not.
        names_place = partial(_names_a_location, self.gazetteer, question)
        for cid, score in ranked:
            item = corpus.by_id.get(cid)
            if item is None:  # in the store but not answering here (yet): the next sync catches up
                continue
            slot = corpus.position[cid]
            text, units = corpus.features(slot)
            if answer_type.UNIT in specific:
                units = corpus.responsible_features(slot)
            coverage = _coverage(result.salient, text)
            states, unit_score = stating(result.salient, specific, units, names_place, asked)
            local = any(place in text for place in reading.sub_place_aliases)
            hit = Hit(item, score, bm25_rank.get(cid), dense_rank.get(cid), similarity.get(cid, 0.0), coverage, states)
            hit.rerank = (
                RERANK["retrieval"] * score / best
                + RERANK["coverage"] * coverage
                + RERANK["unit"] * unit_score
                + RERANK["sub_place"] * float(local)
                + RERANK["phrase"] * shared_phrase(runs, text)
            )
            result.hits.append(hit)
        result.hits.sort(key=lambda h: -h.rerank)
        if specific:
            _stating_first_among_ties(result.hits, lambda hit: self._yields_fact(hit, specific, asked))
        result.hits = result.hits[:k]
        if result.hits and off_topic(question, result.hits[0].coverage, self.topic_words):
            result.scope = "out_of_scope"
            result.off_topic = True
        result.answer_cities = self._answer_cities(result)
        return result

    def _asked(self, result: SearchResult) -> answer_type.Asked:
        """What the question asks beyond its kind: the noun it counts, its distinctive topic words (only those
        can name a part: 公办, 纯, 普惠; not 托育, which nearly every passage holds), the subject of "where"."""
        counted = self._counted_forms(result)
        topic = tuple(
            form
            for word in result.salient
            for form in (word.word, *word.alternatives)
            if form not in counted and self.idf(form) >= DISTINCTIVE_IDF
        )
        asks_place = not result.english and answer_type.PLACE in result.specific_kinds
        subject = place_subject(result.question, result.salient) if asks_place else ()
        return answer_type.asked_of(result.question, counted, topic, subject)

    def _yields_fact(self, hit: Hit, kinds: list[str], asked: answer_type.Asked) -> bool:
        """True when a sentence of the passage gives a value of every kind asked (not only a word for it)."""
        _, units = self.corpus.features(self.corpus.position[hit.item.chunk.chunk_id])
        return any(all(answer_type.extract(kind, unit, asked=asked) for kind in kinds) for unit, _ in units)

    def _counted_forms(self, result: SearchResult) -> tuple[str, ...]:
        """The topic word naming what a count question counts (the last salient word of `counted_phrase`:
        托育驿站 in 村里的托育驿站建了多少家), with the document words for it; () when it names none."""
        if answer_type.COUNT not in result.kinds:
            return ()
        stripped = self.gazetteer.strip_places(result.question)
        if result.english:
            # "How many individual projects …": the last word before the verb; its Chinese renderings.
            phrase = counted_phrase_english(stripped)
            head = next((s for s in result.salient if phrase and singular(s.word.split()[-1]) == phrase), None)
            return tuple(form for form in head.alternatives if CJK_CHAR.match(form)) if head else ()
        phrase = counted_phrase(stripped).lower()
        inside = [(phrase.rfind(s.word) + len(s.word), s) for s in result.salient if len(s.word) >= 2 and s.word in phrase]
        if not inside:
            return ()
        head = max(inside, key=lambda end_word: end_word[0])[1]
        return (head.word, *head.alternatives, *(CAPACITY_FORMS if asks_capacity(stripped) else ()))


    def _dense_ranking(
        self, vector: np.ndarray, n: int, allowed_docs: list[str] | None, allowed_positions: np.ndarray | None
    ) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the `n` nearest answering passages. Within some documents (a city's,
        the national ones) exactly, from the vectors held in memory; over everything, through Chroma's index."""
        corpus = self.corpus
        if not corpus.vectors.complete:
            return self.store.dense_search(vector, n, allowed_docs)
        if allowed_positions is None:
            # Chroma's index without a filter (its status filter over 100,000 passages costs ~300 ms), less the
            # passages that stopped answering; when too many of those crowd the top, the exact way instead.
            found = [(cid, sim) for cid, sim in self.store.nearest(vector, 2 * n) if cid in corpus.by_id]
            if len(found) >= min(n, len(corpus)):
                return found[:n]
            allowed_positions = np.array(sorted(corpus.position.values()), dtype=np.int64)
        if not len(allowed_positions):
            return []
        similarities = corpus.vectors.similarities(allowed_positions, vector)
        order = np.argsort(-similarities, kind="stable")[:n]
        return [(corpus.slots[allowed_positions[i]].chunk.chunk_id, float(similarities[i])) for i in order]

    def _bm25_ranking(self, terms: list[str], allowed_positions: np.ndarray | None) -> list[str]:
        """Chunk ids of the best `candidates` passages by BM25 (ties in slot order), within the allowed ones."""
        if not terms:
            return []
        scores = self.corpus.lexical.scores(terms)
        if allowed_positions is not None:
            positive = allowed_positions[scores[allowed_positions] > 0]
        else:
            positive = np.flatnonzero(scores > 0)
        limit = self.params.candidates
        if len(positive) > limit:
            values = scores[positive]
            cutoff = np.partition(values, len(values) - limit)[len(values) - limit]
            positive = positive[values >= cutoff]  # the best `limit`, and any tied with the last of them
        order = np.lexsort((positive, -scores[positive].astype(np.float64)))
        slots = self.corpus.slots
        return [slots[i].chunk.chunk_id for i in positive[order]]

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


DISTINCTIVE_IDF = 2.0  # a word in fewer than about one passage in eight
TIE_SHARE = 0.9  # passages re-ranked this close to the best one are a tie


def _stating_first_among_ties(hits: list[Hit], yields_fact) -> None:
    """When the best passage does not state the kind of fact asked for but one the re-ranking cannot tell
    apart from it states it and yields the fact itself, that one goes first (台州有多少家托育机构: the overview
    that states 446家, not the plan that names 托育机构 without a count)."""
    if not hits or hits[0].states:
        return
    best = hits[0].rerank
    tied = next(
        (i for i, hit in enumerate(hits[1:], start=1) if hit.rerank >= TIE_SHARE * best and hit.states and yields_fact(hit)),
        None,
    )
    if tied is not None:
        hits.insert(0, hits.pop(tied))


def _names_a_location(gazetteer: Gazetteer, question: str, unit: str) -> bool:
    """True when `unit` names a place the question does not (an answer to "where"); in a table row only its
    values count: a column label (保税区 (含三个街道): 1) says whose figure it is, not where anything is."""
    if is_table(unit):
        unit = " ".join(TABLE_CELL.match(cell).group(2) for cell in unit.split("; ") if TABLE_CELL.match(cell))
    return gazetteer.names_another_place(unit, question)


def _coverage(salient: list[Salient], text: str) -> float:
    return coverage(salient, text)


RELEVANT_SHARE = 0.5  # a unit this close to the passage's most relevant one is "about the question"


def stating(
    salient: list[Salient],
    kinds: list[str],
    units: list[tuple[str, str]],
    names_place=None,
    asked: answer_type.Asked = answer_type.ANYTHING,
) -> tuple[bool, float]:
    """(states, unit score): whether a sentence (or table row) of the passage that is about the question
    states every kind of fact asked for — a number elsewhere in the passage does not answer — and the
    coverage of the best such sentence (of the best sentence at all for an open question)."""
    scored = [(coverage(salient, context), unit) for unit, context in units]
    best = max((c for c, _ in scored), default=0.0)
    if not any(asked.names_quoted(unit) for unit, _ in units):
        return False, best  # the question quotes a name (《…报告》) the passage never mentions
    if not kinds:
        return True, best

    def states(kind: str, unit: str) -> bool:
        if kind == answer_type.PLACE and names_place is not None and not asked.asks_finer(kind) and names_place(unit):
            return asked.names_subject(unit)
        return answer_type.states(kind, unit, asked)

    stated = [c for c, u in scored if c >= RELEVANT_SHARE * best and all(states(kind, u) for kind in kinds)]
    return bool(stated), max(stated, default=0.0)


PHRASE_MIN, PHRASE_FULL = 4, 8  # characters: a shorter run is no phrase; a run this long counts fully


def shared_phrase(runs: list[str], text: str) -> float:
    """How long a run of the question's own words stands verbatim in `text` (健康管理率, as the parent wrote it),
    0 below `PHRASE_MIN` characters, 1 from `PHRASE_FULL` on: words in their order say more than words apart."""
    longest = 0
    for run in runs:
        for size in range(min(len(run), PHRASE_FULL), max(longest, PHRASE_MIN - 1), -1):
            if any(run[i : i + size] in text for i in range(len(run) - size + 1)):
                longest = size
                break
    return longest / PHRASE_FULL if longest >= PHRASE_MIN else 0.0


def live_gazetteer(base: Gazetteer, live: list[DocumentMeta]) -> Gazetteer:
    """`base` (knowledge/places.yaml) attached to the documents that answer now.

    A city with a published document is documented (with the places inside it), even when it is new; a city
    whose documents are all retired is not, so questions about it are refused with "no documents for this
    place" instead of being answered from other cities. A document's aliases never re-map a place of the
    hierarchy (宁波 stays the city, whose 北仑 district alone has a document).
    """
    cities = [meta.city for meta in live if meta.city]
    aliases = {alias: meta.city for meta in live if meta.city for alias in meta.aliases}
    return Gazetteer(base.tree, cities, aliases)
