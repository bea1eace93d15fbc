"""The policy question-answering service: one object the bot and the CLI share.

It opens the chunk store, loads the embedder once, keeps the hybrid searcher warm, and answers
questions — following a previous question in the same chat when the new one is a follow-up.

The answering documents are the catalog's (knowledge/policies) plus those staff published; their raw
files live in `kb_dir` (default: `kb/` beside the index directory, i.e. under the data directory).
Places are recognised for every city that has a published document, and a city whose documents are
all retired is answered like any city without documents.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from retrieval.answer import Answer, build_answer
from retrieval.embedding import Embedder, load_embedder
from retrieval.indexer import BuildReport, build_index
from retrieval.places import stem
from retrieval.query import Gazetteer, resolve_followup, to_simplified
from retrieval.search import HybridSearcher, SearchParams
from retrieval.store import ChunkStore, collection_name, open_chroma
from retrieval.types import DocumentMeta

log = logging.getLogger(__name__)
MAX_QUESTION_CHARS = 500


class PolicyService:
    """Answers policy questions from the indexed documents."""

    def __init__(
        self,
        index_dir: Path,
        knowledge_dir: Path,
        embedding_model: str = "",
        chroma_host: str = "",
        chroma_port: int = 8000,
        llm=None,
        params: SearchParams | None = None,
        embedder: Embedder | None = None,
        kb_dir: Path | None = None,
    ) -> None:
        self.knowledge_dir = knowledge_dir
        self.kb_dir = kb_dir if kb_dir is not None else Path(index_dir).parent / "kb"
        #: Serialises changes to the knowledge base (publish, retire, …) within this process.
        self.kb_lock = threading.RLock()
        #: Bumped each time the searcher is rebuilt from the store (cache key for evaluations).
        self.generation = 0
        #: The knowledge-base generation (db.knowledge_changes) this worker answers from; -1 = not followed yet.
        self.synced_generation = -1
        self.embedding_model = embedding_model
        self._embedder = embedder
        self._embedder_lock = threading.Lock()
        client = open_chroma(index_dir, chroma_host, chroma_port)
        name = embedder.name if embedder else (embedding_model or "use-multilingual-v3")
        self.store = ChunkStore(client, collection_name(name))
        self.params = params
        self.llm = llm
        self._searcher: HybridSearcher | None = None

    @property
    def embedder(self) -> Embedder:
        """The embedding model, loaded on first use."""
        with self._embedder_lock:
            if self._embedder is None:
                self._embedder = load_embedder(self.embedding_model)
            return self._embedder

    def build(self) -> BuildReport:
        """Bring the index up to date with the catalog (cheap when nothing changed)."""
        report = build_index(self.store, self.knowledge_dir, self.embedder_name, lambda: self.embedder, self.kb_dir)
        if report.changed and self._searcher is not None:
            self.refresh()
        return report

    @property
    def embedder_name(self) -> str:
        """Name of the embedding model (part of every content hash), without loading it."""
        return self._embedder.name if self._embedder else (self.embedding_model or "use-multilingual-v3")

    @property
    def searcher(self) -> HybridSearcher:
        """The hybrid searcher (built on first use)."""
        if self._searcher is None:
            self._searcher = self._new_searcher()
        return self._searcher

    def _new_searcher(self) -> HybridSearcher:
        searcher = HybridSearcher(self.store, self.embedder, self.knowledge_dir, self.params)
        searcher.gazetteer = live_gazetteer(searcher.gazetteer, [item.meta for item in searcher.items])
        return searcher

    def refresh(self) -> None:
        """Re-read the store after a change: a new searcher is built, then swapped in at once, so a question
        being answered meanwhile sees either the old or the new knowledge base, never a mix."""
        self._searcher = self._new_searcher()
        self.generation += 1

    def note_generation(self, generation: int) -> None:
        """This worker made change `generation` itself (and refreshed): it is in sync with it when it was in
        sync with the one before; otherwise the next `sync` catches up on the changes in between."""
        if self.synced_generation == generation - 1:
            self.synced_generation = generation

    def warm_up(self) -> None:
        """Load the model and the lexical index now, so the first question is fast."""
        for question in ("普惠托育", "How much is the childcare subsidy?", "托育機構在哪裡登記？"):
            self.searcher.search(to_simplified(question))

    def search(self, question: str, k: int = 5):
        """The search result for `question` alone (no follow-up), e.g. to fit the confidence weights."""
        question = " ".join(question.split())[:MAX_QUESTION_CHARS]
        return self.searcher.search(to_simplified(question), k=k)

    def ask(self, question: str, previous_question: str | None = None, k: int = 5, use_llm: bool = True) -> Answer:
        """Answer `question`; `previous_question` lets a place-only follow-up keep the earlier topic.
        `use_llm=False` keeps the answer extractive even when an LLM is configured (evaluation runs)."""
        question = " ".join(question.split())[:MAX_QUESTION_CHARS]
        simplified = to_simplified(question)
        previous = to_simplified(previous_question) if previous_question else None
        searcher = self.searcher  # one searcher for the whole answer, even if a publish swaps it meanwhile
        effective = resolve_followup(simplified, previous, searcher.gazetteer)
        result = searcher.search(effective, k=k)
        answer = build_answer(result, searcher)
        answer.question = question
        # Shown back to the user only when a follow-up was expanded.
        answer.effective_question = effective if effective != simplified else question
        # The LLM is asked only when the extractive answer passed the guard (confidence, the fact stated);
        # its text must pass the same guard after generation, else the extractive answer stands.
        if answer.answered and self.llm is not None and use_llm:
            from retrieval.guard import grounded
            from retrieval.llm import generate_answer

            generated = generate_answer(self.llm, effective, answer.sources)
            passages = [q.source.text for q in answer.quotes] + [s.text for s in answer.sources]
            if generated == "":
                answer.answered, answer.reason, answer.quotes = False, "not_found", []
            elif generated and grounded(generated, passages, result.kinds):
                answer.generated = generated
            elif generated:
                log.info("LLM answer dropped by the fact guard (%d chars)", len(generated))
        return answer


def _city_stem(city: str) -> str:
    """深圳市 → 深圳, 南山区 → 南山 (kept whole when too short to stand alone); used by staff ingest."""
    return stem(city)


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
