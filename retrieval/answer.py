"""Turn search results into an answer: verbatim quotes with their sources (extractive, the default),
or a short grounded text from an LLM when one is configured. Both refuse below the confidence bar."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from retrieval.chunking import split_sentences
from retrieval.search import HybridSearcher, SearchResult
from retrieval.store import IndexedChunk
from retrieval.tokenize import tokenize

MAX_QUOTES = 3
MIN_SENTENCE_CHARS = 16  # a heading alone says little: quote the sentence after it too
# A question asking for an amount prefers sentences that state one.
_ASKS_FOR_NUMBER = re.compile(r"多少|几[个家名岁月年种次]|多大|多久|比例|占比|how (many|much|long|old)|what (share|percentage)", re.I)
_HAS_NUMBER = re.compile(r"\d")
NUMBER_BONUS = 0.1


@dataclass(frozen=True)
class Source:
    """A cited passage."""

    doc_id: str
    title: str
    city: str
    section: str
    text: str
    score: float
    chunk_id: str

    def to_dict(self) -> dict:
        """The contract shape of a source (DESIGN.md)."""
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "city": self.city,
            "section": self.section,
            "text": self.text,
            "score": round(self.score, 4),
        }


@dataclass(frozen=True)
class Quote:
    """A verbatim sentence from a source passage."""

    text: str
    source: Source


@dataclass
class Answer:
    """What the bot says to a policy question."""

    question: str
    answered: bool
    quotes: list[Quote] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    cities: list[str] = field(default_factory=list)  # the cities the answer is about
    named_cities: list[str] = field(default_factory=list)
    unknown_places: list[str] = field(default_factory=list)
    reason: str = ""  # "" | "not_found" | "no_documents_for_place"
    generated: str = ""  # the LLM's text, when an LLM answered
    effective_question: str = ""

    @property
    def differs_by_city(self) -> bool:
        """True when no city was named and several cities' documents answer differently."""
        return not self.named_cities and len(self.cities) > 1


def source_of(item: IndexedChunk, score: float = 0.0) -> Source:
    """The citable form of a stored passage."""
    return Source(
        doc_id=item.meta.doc_id,
        title=item.meta.title,
        city=item.meta.city,
        section=item.chunk.section_path,
        text=item.chunk.text,
        score=score,
        chunk_id=item.chunk.chunk_id,
    )


def _sentence_score(sentence: str, searcher: HybridSearcher, terms: list[str]) -> float:
    tokens = set(tokenize(sentence, searcher.stopwords))
    total = sum(searcher.idf(t) for t in terms) or 1.0
    return sum(searcher.idf(t) for t in terms if t in tokens) / total


def select_quotes(result: SearchResult, searcher: HybridSearcher, sources: list[Source]) -> list[Quote]:
    """The few sentences that answer best, verbatim, at least one per answering city."""
    candidates: list[tuple[float, int, Quote]] = []
    wants_number = bool(_ASKS_FOR_NUMBER.search(result.question))
    for rank, (hit, source) in enumerate(zip(result.hits, sources, strict=True)):
        if hit.item.meta.city not in result.answer_cities or rank >= 4:
            continue
        sentences = [s for s in split_sentences(hit.item.chunk.text) if s.strip()]
        for i, sentence in enumerate(sentences):
            score = _sentence_score(sentence, searcher, result.query_terms)
            text = sentence.strip().strip(";；").strip()
            if len(text) < MIN_SENTENCE_CHARS and i + 1 < len(sentences):
                text = f"{text}{sentences[i + 1].strip()}"
            if wants_number and _HAS_NUMBER.search(text):
                score += NUMBER_BONUS
            # Earlier-ranked passages win ties: rank is part of the score.
            candidates.append((score - 0.05 * rank, rank, Quote(text, source)))
    candidates.sort(key=lambda c: -c[0])
    quotes: list[Quote] = []
    used_passages: set[str] = set()
    for city in result.answer_cities:  # the best sentence of each answering city first
        for _, _, quote in candidates:
            if quote.source.city == city:
                quotes.append(quote)
                used_passages.add(quote.source.chunk_id)
                break
    best = candidates[0][0] if candidates else 0.0
    for score, _, quote in candidates:
        if len(quotes) >= MAX_QUOTES:
            break
        if quote in quotes or quote.source.chunk_id in used_passages or score < 0.6 * best:
            continue
        quotes.append(quote)
        used_passages.add(quote.source.chunk_id)
    return quotes


def build_answer(result: SearchResult, searcher: HybridSearcher) -> Answer:
    """The extractive answer for a search result (refusing when the documents do not answer)."""
    sources = [source_of(hit.item, hit.score) for hit in result.hits]
    answer = Answer(
        question=result.question,
        answered=False,
        sources=sources,
        named_cities=list(result.cities),
        unknown_places=list(result.unknown_places),
        effective_question=result.question,
    )
    if result.unknown_places and not result.cities:
        answer.reason = "no_documents_for_place"
        return answer
    if not result.confident:
        answer.reason = "not_found"
        return answer
    answer.answered = True
    answer.cities = list(result.answer_cities)
    answer.quotes = select_quotes(result, searcher, sources)
    return answer
