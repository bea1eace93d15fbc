"""The policy question-answering service: one object the bot and the CLI share.

It opens the chunk store, loads the embedder once, keeps the hybrid searcher warm, and answers
questions — following a previous question in the same chat when the new one is a follow-up.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from retrieval.answer import Answer, build_answer
from retrieval.embedding import Embedder, load_embedder
from retrieval.indexer import BuildReport, build_index
from retrieval.query import resolve_followup, to_simplified
from retrieval.search import HybridSearcher, SearchParams
from retrieval.store import ChunkStore, collection_name, open_chroma

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
    ) -> None:
        self.knowledge_dir = knowledge_dir
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
        name = self._embedder.name if self._embedder else (self.embedding_model or "use-multilingual-v3")
        report = build_index(self.store, self.knowledge_dir, name, lambda: self.embedder)
        if report.changed and self._searcher is not None:
            self._searcher.reload()
        return report

    @property
    def searcher(self) -> HybridSearcher:
        """The hybrid searcher (built on first use)."""
        if self._searcher is None:
            self._searcher = HybridSearcher(self.store, self.embedder, self.knowledge_dir, self.params)
        return self._searcher

    def warm_up(self) -> None:
        """Load the model and the lexical index now, so the first question is fast."""
        self.searcher.search("普惠托育")

    def ask(self, question: str, previous_question: str | None = None, k: int = 5) -> Answer:
        """Answer `question`; `previous_question` lets a place-only follow-up keep the earlier topic."""
        question = " ".join(question.split())[:MAX_QUESTION_CHARS]
        simplified = to_simplified(question)
        previous = to_simplified(previous_question) if previous_question else None
        effective = resolve_followup(simplified, previous, self.searcher.gazetteer)
        result = self.searcher.search(effective, k=k)
        answer = build_answer(result, self.searcher)
        answer.question = question
        # Shown back to the user only when a follow-up was expanded.
        answer.effective_question = effective if effective != simplified else question
        if answer.answered and self.llm is not None:
            from retrieval.llm import generate_answer

            generated = generate_answer(self.llm, effective, answer.sources)
            if generated == "":
                answer.answered, answer.reason, answer.quotes = False, "not_found", []
            elif generated:
                answer.generated = generated
        return answer
