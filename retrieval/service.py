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
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from retrieval.answer import Answer, build_answer
from retrieval.corpus import Corpus, SnapshotKey, lexical_fingerprint
from retrieval.embedding import Embedder, load_embedder
from retrieval.guard import grounded
from retrieval.indexer import BuildReport, build_index
from retrieval.query import as_documents_write, resolve_followup, to_simplified
from retrieval.search import HybridSearcher, SearchParams, live_gazetteer  # noqa: F401  (re-exported)
from retrieval.store import ChunkStore, collection_name, open_chroma
from retrieval.tokenize import load_stopwords

log = logging.getLogger(__name__)
MAX_QUESTION_CHARS = 500
#: A worker saves its lexical snapshot after changes at most this often (it catches up from the change log
#: anyway, so a snapshot a few changes old only costs those changes at the next start).
SNAPSHOT_INTERVAL_S = 300.0


class ChangeFeed(Protocol):
    """The knowledge base's change log as a worker follows it (implemented by `db.knowledge.changes.ChangeLog`)."""

    def current(self) -> int:
        """The newest generation."""

    def since(self, generation: int) -> tuple[int, list[str] | None]:
        """(newest generation, chunk-store ids of the documents changed after `generation`); None instead of
        the ids when everything must be re-read (a re-index)."""


@dataclass(frozen=True)
class ServiceOptions:
    """How a `PolicyService` is set up beyond its folders, embedder and change log: the embedding model to load
    (when no embedder is given), a Chroma server (none: the local index), the LLM that phrases answers, search
    parameters, where staff files live (default `kb/` beside the index), how often to follow the change log, and
    whether to keep a lexical snapshot."""

    embedding_model: str = ""
    chroma_host: str = ""
    chroma_port: int = 8000
    llm: object = None
    params: SearchParams | None = None
    kb_dir: Path | None = None
    sync_seconds: float = 2.0
    snapshot: bool = True


class PolicyService:
    """Answers policy questions from the indexed documents."""

    def __init__(
        self,
        index_dir: Path,
        knowledge_dir: Path,
        *,
        embedder: Embedder | None = None,
        change_feed: ChangeFeed | None = None,
        options: ServiceOptions = ServiceOptions(),  # noqa: B008  (frozen: shared safely)
    ) -> None:
        embedding_model, kb_dir = options.embedding_model, options.kb_dir
        self.knowledge_dir = knowledge_dir
        self.kb_dir = kb_dir if kb_dir is not None else Path(index_dir).parent / "kb"
        #: Serialises changes to the knowledge base (publish, retire, …) within this process.
        self.kb_lock = threading.RLock()
        #: Bumped each time the searcher is rebuilt from the store (cache key for evaluations).
        self.generation = 0
        #: The knowledge-base generation (db.knowledge.changes) this worker answers from; -1 = not followed yet.
        self.synced_generation = -1
        self.embedding_model = embedding_model
        self._embedder = embedder
        self._embedder_lock = threading.Lock()
        client = open_chroma(index_dir, options.chroma_host, options.chroma_port)
        name = embedder.name if embedder else (embedding_model or "use-multilingual-v3")
        self.store = ChunkStore(client, collection_name(name))
        self.params = options.params
        self.llm = options.llm
        self._searcher: HybridSearcher | None = None
        self._searcher_lock = threading.Lock()
        self.change_feed = change_feed
        self.sync_seconds = options.sync_seconds
        self._last_sync = 0.0
        self._sync_lock = threading.Lock()
        self.snapshot_path: Path | None = (
            Path(index_dir) / f"lexical-{self.store.collection.name}.pickle" if options.snapshot else None
        )
        self._snapshot_saved = 0.0

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
            self.refresh([d.doc_id for d in report.documents if d.action != "unchanged"])
        return report

    @property
    def embedder_name(self) -> str:
        """Name of the embedding model (part of every content hash), without loading it."""
        return self._embedder.name if self._embedder else (self.embedding_model or "use-multilingual-v3")

    @property
    def searcher(self) -> HybridSearcher:
        """The hybrid searcher: on first use loaded from the snapshot (and caught up), or built from the store."""
        searcher = self._searcher
        if searcher is None:
            with self._searcher_lock:
                if self._searcher is None:
                    self._searcher = self._start_searcher()
                searcher = self._searcher
        return searcher

    def _snapshot_key(self, generation: int | None) -> SnapshotKey:
        return SnapshotKey(
            lexical_fingerprint(self.knowledge_dir), str(self.store.collection.id), generation,
            self.store.collection.count(),
        )

    def _start_searcher(self) -> HybridSearcher:
        started = time.perf_counter()
        generation = self._feed_generation()
        searcher = self._searcher_from_snapshot(generation)
        how = "snapshot"
        if searcher is None:
            searcher = HybridSearcher(self.store, self.embedder, self.knowledge_dir, self.params)
            how = "store"
        if generation is not None:
            self.synced_generation = generation
        if how == "store" or self._snapshot_saved < 0:
            self.save_snapshot(searcher)
        else:  # the snapshot on disk is this searcher: the next save is due after SNAPSHOT_INTERVAL_S
            self._snapshot_saved = time.monotonic()
        log.info(
            "policy searcher ready from the %s: %d passages in %.2f s", how, len(searcher.corpus),
            time.perf_counter() - started,
        )
        return searcher

    def _searcher_from_snapshot(self, generation: int | None) -> HybridSearcher | None:
        """The searcher of the saved snapshot, brought up to `generation`; None when there is none or it does
        not match the store any more."""
        if self.snapshot_path is None:
            return None
        loaded = Corpus.load(self.snapshot_path, self.store_stopwords())
        if loaded is None:
            return None
        corpus, key = loaded
        now = self._snapshot_key(None)
        if (key.fingerprint, key.collection) != (now.fingerprint, now.collection):
            return None
        changed: list[str] = []
        if generation is None or key.generation is None:
            stored = {d: doc.content_hash for d, doc in self.store.documents().items() if doc.live}
            if stored != corpus.live_summary():
                return None
        elif key.generation > generation:  # the database was reset: trust nothing
            return None
        elif key.generation < generation:
            try:
                _, ids = self.change_feed.since(key.generation)
            except Exception:
                log.warning("knowledge-base change log unreadable; rebuilding the lexical index", exc_info=True)
                return None
            if ids is None:
                return None
            changed = ids
        elif key.stored != now.stored:  # the store changed without a logged change (e.g. rebuilt)
            return None
        searcher = HybridSearcher(self.store, self.embedder, self.knowledge_dir, self.params, corpus=corpus)
        if changed:
            searcher.apply(changed)
            self._snapshot_saved = -1.0  # save the caught-up snapshot
        return searcher

    def store_stopwords(self) -> frozenset[str]:
        """The stop words the lexical index uses."""
        return load_stopwords(self.knowledge_dir / "stopwords.txt")

    def save_snapshot(self, searcher: HybridSearcher | None = None) -> None:
        """Write the lexical snapshot now (a failure is logged: the next start rebuilds instead)."""
        searcher = searcher or self._searcher
        if self.snapshot_path is None or searcher is None:
            return
        try:
            searcher.corpus.save(self.snapshot_path, self._snapshot_key(self.synced_generation_or_none()))
            self._snapshot_saved = time.monotonic()
        except Exception:
            log.warning("could not save the lexical snapshot", exc_info=True)

    def synced_generation_or_none(self) -> int | None:
        """The generation this worker answers from, or None when it follows no change log."""
        return self.synced_generation if self.change_feed is not None and self.synced_generation >= 0 else None

    def _feed_generation(self) -> int | None:
        if self.change_feed is None:
            return None
        try:
            return self.change_feed.current()
        except Exception:
            log.warning("knowledge-base change log unreadable; answering without following it", exc_info=True)
            return None

    def refresh(self, doc_ids: list[str] | None = None) -> None:
        """Re-read the store after a change: only the passages of `doc_ids` (chunk-store ids) when given, else
        everything. A question being answered meanwhile sees either the old or the new knowledge base."""
        if self._searcher is None:
            self.generation += 1
            return
        if doc_ids is None:
            searcher = HybridSearcher(self.store, self.embedder, self.knowledge_dir, self.params)
            self._searcher = searcher
        else:
            self._searcher.apply(doc_ids)
        self.generation += 1
        if self.snapshot_path is not None and time.monotonic() - self._snapshot_saved > SNAPSHOT_INTERVAL_S:
            threading.Thread(target=self.save_snapshot, name="lexical-snapshot", daemon=True).start()

    def sync(self, force: bool = False) -> bool:
        """Catch up with changes other workers (or the CLI) made, read from the change log at most every
        `sync_seconds`. Returns True when something changed. A database that cannot be read is logged and
        skipped: questions are answered from what this worker has."""
        if self.change_feed is None or self._searcher is None:
            return False
        now = time.monotonic()
        if not force and now - self._last_sync < self.sync_seconds:
            return False
        with self._sync_lock:
            if not force and now - self._last_sync < self.sync_seconds:
                return False
            self._last_sync = now
            try:
                current = self.change_feed.current()
                if current == self.synced_generation:
                    return False
                newest, ids = self.change_feed.since(max(self.synced_generation, 0))
            except Exception:
                log.warning("knowledge-base change log unreadable; will retry", exc_info=True)
                return False
            with self.kb_lock:
                self.refresh(ids)
                self.synced_generation = newest
            log.info("knowledge base caught up to generation %d (%s)", newest, "all" if ids is None else len(ids))
            return True

    def note_generation(self, generation: int) -> None:
        """This worker made change `generation` itself (and refreshed): it is in sync with it when it was in
        sync with the one before; otherwise the next `sync` catches up on the changes in between."""
        if self.synced_generation == generation - 1:
            self.synced_generation = generation

    def close(self) -> None:
        """Release the Chroma client; the service answers nothing afterwards."""
        self.store.close()

    def warm_up(self) -> None:
        """Load the model and the lexical index now, so the first question is fast."""
        for question in ("普惠托育", "How much is the childcare subsidy?", "托育機構在哪裡登記？"):
            self.searcher.search(as_documents_write(to_simplified(question)))

    def search(self, question: str, k: int = 5):
        """The search result for `question` alone (no follow-up), e.g. to fit the confidence weights."""
        self.sync()
        question = " ".join(question.split())[:MAX_QUESTION_CHARS]
        return self.searcher.search(as_documents_write(to_simplified(question)), k=k)

    def ask(self, question: str, previous_question: str | None = None, k: int = 5, use_llm: bool = True) -> Answer:
        """Answer `question`; `previous_question` lets a place-only follow-up keep the earlier topic.
        `use_llm=False` keeps the answer extractive even when an LLM is configured (evaluation runs)."""
        self.sync()
        question = " ".join(question.split())[:MAX_QUESTION_CHARS]
        simplified = as_documents_write(to_simplified(question))
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
        # (A question about the document itself is answered from its catalog entry: nothing to rephrase.)
        if answer.answered and answer.kind != "document" and self.llm is not None and use_llm:
            from retrieval.llm import generate_answer  # langchain only when an LLM is configured

            generated = generate_answer(self.llm, effective, answer.sources)
            passages = [q.source.text for q in answer.quotes] + [s.text for s in answer.sources]
            if generated == "":
                answer.answered, answer.reason, answer.quotes = False, "not_found", []
            elif generated and grounded(generated, passages, result.kinds):
                answer.generated = generated
            elif generated:
                log.info("LLM answer dropped by the fact guard (%d chars)", len(generated))
        return answer
