"""The lexical half of hybrid search: BM25 over passage tokens, changed one document at a time.

Scores are BM25's Lucene variant with bm25s's defaults (k1 1.5, b 0.75) and its float32 arithmetic, so a
freshly built index ranks exactly as `bm25s.BM25().index(...)` would (tests/test_lexical.py checks this
against bm25s). Unlike bm25s, passages can be added and removed afterwards at a cost proportional to them:
the corpus statistics (passage count, mean length, document frequencies) are kept as counters, and each
term's postings (slot, term frequency) as arrays. A removed passage's slot is marked dead and dropped from
a term's postings the next time that term is scored. Slots are never reused.

Not thread-safe by itself: `retrieval.corpus.Corpus` guards it with a readers/writer lock.
"""

from __future__ import annotations

import math
import threading
from collections import Counter, OrderedDict

import numpy as np

K1 = 1.5
B = 0.75
_CACHE_ELEMENTS = 8_000_000  # scored postings kept between questions (~64 MB)


class _Growable:
    """A 1-d numpy array with amortised appends."""

    def __init__(self, dtype, data: np.ndarray | None = None) -> None:
        self.data = np.asarray(data if data is not None else np.zeros(0), dtype=dtype)
        self.size = len(self.data)

    def append_many(self, values) -> None:
        values = np.asarray(values, dtype=self.data.dtype)
        needed = self.size + len(values)
        if needed > len(self.data):
            grown = np.zeros(max(needed, 2 * len(self.data), 64), dtype=self.data.dtype)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.data[self.size : needed] = values
        self.size = needed

    @property
    def view(self) -> np.ndarray:
        return self.data[: self.size]


class LexicalIndex:
    """BM25 postings over passages in slots 0..n-1; see the module docstring."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self.terms: list[str] = []  # term id → term (append-only: new words since n are terms[n:])
        self.df = _Growable(np.int64)
        self.lengths = _Growable(np.float64)
        self.alive = _Growable(np.bool_)
        self.live = 0
        self.total_length = 0.0
        # Per term id: postings as arrays, plus appends not merged into them yet.
        self._slots: list[np.ndarray] = []
        self._tfs: list[np.ndarray] = []
        self._pending: dict[int, tuple[list[int], list[int]]] = {}
        #: Per slot: the ids of its distinct terms (to update document frequencies when it is removed).
        self.slot_terms: list[np.ndarray | None] = []
        self.version = 0
        self._cache: OrderedDict[int, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._cache_version = -1
        self._cache_elements = 0
        self._cache_lock = threading.Lock()
        self._merge_lock = threading.Lock()

    # ---- changes
    def add(self, tokens: list[str]) -> int:
        """Index one passage's tokens; returns its slot."""
        slot = len(self.slot_terms)
        counts = Counter(tokens)
        ids = np.empty(len(counts), dtype=np.int32)
        for i, (term, tf) in enumerate(counts.items()):
            term_id = self.vocab.get(term)
            if term_id is None:
                term_id = self.vocab[term] = len(self.vocab)
                self.terms.append(term)
                self.df.append_many([0])
                self._slots.append(np.zeros(0, dtype=np.int32))
                self._tfs.append(np.zeros(0, dtype=np.float32))
            ids[i] = term_id
            pending = self._pending.setdefault(term_id, ([], []))
            pending[0].append(slot)
            pending[1].append(tf)
        if len(ids):
            self.df.data[ids] += 1
        self.slot_terms.append(ids)
        self.lengths.append_many([len(tokens)])
        self.alive.append_many([True])
        self.live += 1
        self.total_length += len(tokens)
        self.version += 1
        return slot

    def remove(self, slot: int) -> None:
        """Take a passage out of the statistics and (lazily) out of the postings."""
        ids = self.slot_terms[slot]
        if ids is None:
            return
        self.df.data[ids] -= 1
        self.alive.data[slot] = False
        self.live -= 1
        self.total_length -= float(self.lengths.data[slot])
        self.slot_terms[slot] = None
        self.version += 1

    @property
    def slot_count(self) -> int:
        """Slots ever used (live and dead)."""
        return len(self.slot_terms)

    def document_frequency(self, term: str) -> int:
        """How many live passages contain `term`."""
        term_id = self.vocab.get(term)
        return 0 if term_id is None else int(self.df.data[term_id])

    def has_term(self, term: str) -> bool:
        """True when a live passage contains `term`."""
        return self.document_frequency(term) > 0

    # ---- scoring
    def scores(self, terms: list[str]) -> np.ndarray:
        """BM25 score of every slot for the query `terms` (repeats count, unknown terms are ignored); dead
        slots score 0."""
        scores = np.zeros(self.slot_count, dtype=np.float32)
        if not self.live:
            return scores
        for term in terms:
            term_id = self.vocab.get(term)
            if term_id is None or self.df.data[term_id] <= 0:
                continue
            slots, contributions = self._contributions(term_id)
            scores[slots] += contributions
        return scores

    def _contributions(self, term_id: int) -> tuple[np.ndarray, np.ndarray]:
        with self._cache_lock:
            if self._cache_version != self.version:
                self._cache.clear()
                self._cache_elements = 0
                self._cache_version = self.version
            cached = self._cache.get(term_id)
            if cached is not None:
                self._cache.move_to_end(term_id)
                return cached
        with self._merge_lock:
            slots, tfs = self._postings(term_id)
        df = int(self.df.data[term_id])
        n = self.live
        average = self.total_length / n
        # As bm25s: the idf is stored as float32, the rest is computed in double precision, and the product
        # stored as float32; the per-question sums are float32.
        idf = np.float64(np.float32(math.log(1 + (n - df + 0.5) / (df + 0.5))))
        norm = K1 * ((1 - B) + B * self.lengths.data[slots] / average)
        tf = tfs.astype(np.float64)
        contributions = (idf * (tf / (norm + tf))).astype(np.float32)
        with self._cache_lock:
            if self._cache_version == self.version:
                self._cache[term_id] = (slots, contributions)
                self._cache_elements += len(slots)
                while self._cache_elements > _CACHE_ELEMENTS and len(self._cache) > 1:
                    _, (old, _) = self._cache.popitem(last=False)
                    self._cache_elements -= len(old)
        return slots, contributions

    def _postings(self, term_id: int) -> tuple[np.ndarray, np.ndarray]:
        """A term's live postings, merging pending appends and dropping dead slots (callers hold
        `_merge_lock`, or the writer's side of the corpus lock)."""
        slots, tfs = self._slots[term_id], self._tfs[term_id]
        pending = self._pending.get(term_id)
        if pending is not None:
            slots = np.concatenate([slots, np.asarray(pending[0], dtype=np.int32)])
            tfs = np.concatenate([tfs, np.asarray(pending[1], dtype=np.float32)])
        keep = self.alive.data[slots]
        if not keep.all():
            slots, tfs = slots[keep], tfs[keep]
        if pending is not None or len(slots) != len(self._slots[term_id]):
            self._slots[term_id], self._tfs[term_id] = slots, tfs
            self._pending.pop(term_id, None)
        return slots, tfs

    # ---- persistence
    def to_state(self) -> dict:
        """The index as plain arrays (for a snapshot file)."""
        for term_id in list(self._pending):
            self._postings(term_id)
        offsets = np.zeros(len(self._slots) + 1, dtype=np.int64)
        np.cumsum([len(s) for s in self._slots], out=offsets[1:])
        term_offsets = np.zeros(len(self.slot_terms) + 1, dtype=np.int64)
        np.cumsum([0 if t is None else len(t) for t in self.slot_terms], out=term_offsets[1:])
        empty32 = np.zeros(0, dtype=np.int32)
        return {
            "vocab": list(self.vocab),
            "df": self.df.view.copy(),
            "lengths": self.lengths.view.copy(),
            "alive": self.alive.view.copy(),
            "posting_offsets": offsets,
            "posting_slots": np.concatenate(self._slots) if self._slots else empty32,
            "posting_tfs": np.concatenate(self._tfs) if self._tfs else np.zeros(0, dtype=np.float32),
            "term_offsets": term_offsets,
            "slot_terms": np.concatenate([t for t in self.slot_terms if t is not None] or [empty32]),
        }

    @classmethod
    def from_state(cls, state: dict) -> LexicalIndex:
        """The index `to_state` saved."""
        index = cls()
        index.terms = list(state["vocab"])
        index.vocab = {term: i for i, term in enumerate(index.terms)}
        index.df = _Growable(np.int64, state["df"])
        index.lengths = _Growable(np.float64, state["lengths"])
        index.alive = _Growable(np.bool_, state["alive"])
        offsets = state["posting_offsets"]
        slots, tfs = state["posting_slots"], state["posting_tfs"]
        index._slots = [slots[offsets[i] : offsets[i + 1]] for i in range(len(offsets) - 1)]
        index._tfs = [tfs[offsets[i] : offsets[i + 1]] for i in range(len(offsets) - 1)]
        term_offsets, slot_terms = state["term_offsets"], state["slot_terms"]
        alive = index.alive.view
        index.slot_terms = []
        for slot in range(len(alive)):
            index.slot_terms.append(slot_terms[term_offsets[slot] : term_offsets[slot + 1]] if alive[slot] else None)
        index.live = int(alive.sum())
        index.total_length = float(index.lengths.view[alive].sum())
        return index
