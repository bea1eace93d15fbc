"""The answering passages held in memory: their text and metadata, the lexical index over them, and what
the ranking reads per passage; changed one document at a time and saved to a snapshot file.

A publish, replacement or retirement changes the passages of one or two documents: `Corpus.replace`
tokenises only those (outside the lock) and swaps them in under a short write lock, so its cost follows the
document, not the corpus. Searches hold the read lock for their whole run, so a question answered meanwhile
sees the knowledge base before or after a change, never half of it.

The snapshot (`save`/`load`) lets a worker start without tokenising every passage again. It is keyed by
what produced it (`SnapshotKey`): the Chroma collection it mirrors, the tokeniser's rules and code, and the
knowledge-base generation it reflects; a worker loading an older generation catches up through the change
log (see `PolicyService.sync`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from retrieval.lexical import LexicalIndex
from retrieval.places import NATIONAL_CITY_NAMES
from retrieval.store import IndexedChunk
from retrieval.tokenize import tokenize
from retrieval.types import Chunk, DocumentMeta
from retrieval.units import ages_in_ranges, has_notes, quotable_units, with_responsible_notes, without_note

log = logging.getLogger(__name__)
SNAPSHOT_FORMAT = 2  # 2: passage vectors included
_FEATURE_CACHE = 4096  # passages whose ranking features are kept between questions
_LEXICAL_SOURCES = ("tokenize.py", "lexical.py", "corpus.py")


class ReadWriteLock:
    """Many readers or one writer; a waiting writer goes before readers that arrive after it."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0

    @contextmanager
    def reading(self):
        """Hold the lock shared."""
        with self._cond:
            while self._writer or self._writers_waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def writing(self):
        """Hold the lock alone."""
        with self._cond:
            self._writers_waiting += 1
            while self._writer or self._readers:
                self._cond.wait()
            self._writers_waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


def lexical_text(item: IndexedChunk) -> str:
    """What BM25 sees for a passage: city, title and outline path add context the text alone lacks."""
    return f"{item.meta.city} {item.meta.title} {' '.join(item.chunk.section)} {item.chunk.text}"


def lexical_fingerprint(knowledge_dir: Path) -> str:
    """Hash of the code and word lists that turn a passage into index tokens (part of the snapshot key)."""
    digest = hashlib.sha256(str(SNAPSHOT_FORMAT).encode())
    here = Path(__file__).resolve().parent
    for name in _LEXICAL_SOURCES:
        digest.update((here / name).read_bytes())
    for name in ("jieba_userdict.txt", "stopwords.txt"):
        path = knowledge_dir / name
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class SnapshotKey:
    """What a snapshot must match to be used: the pipeline, the collection, and the generation it reflects
    (None when no change log is followed: then its documents are compared with the store's)."""

    fingerprint: str
    collection: str
    generation: int | None = None
    stored: int = -1  # passages in the collection (any status) when it was saved


@dataclass(frozen=True)
class Prepared:
    """One passage ready to be swapped in: tokenised outside the lock."""

    item: IndexedChunk
    tokens: list[str]


class VectorMatrix:
    """Passage vectors by slot (float32 rows, amortised appends); rows of slots without a vector are zero."""

    def __init__(self, data: np.ndarray | None = None, complete: bool = True) -> None:
        self.data = data if data is not None else np.zeros((0, 0), dtype=np.float32)
        self.size = len(self.data)
        #: False once a passage came without its vector: then dense search goes to the store.
        self.complete = complete

    def append(self, vector: np.ndarray | None) -> None:
        """Add the next slot's row."""
        if vector is None:
            self.complete = False
        dim = len(vector) if vector is not None else self.data.shape[1]
        if self.size == 0 and self.data.shape[1] != dim:
            self.data = np.zeros((0, dim), dtype=np.float32)
        if vector is not None and len(vector) != self.data.shape[1]:  # another model's vectors
            self.complete = False
            vector = None
        if self.size >= len(self.data):
            # Grow by an eighth: the matrix is the biggest thing a worker holds (~200 MB at 100,000 passages).
            grown = np.zeros((len(self.data) + max(1024, len(self.data) // 8), self.data.shape[1]), dtype=np.float32)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        if vector is not None:
            self.data[self.size] = vector
        self.size += 1

    def similarities(self, slots: np.ndarray, vector: np.ndarray) -> np.ndarray:
        """Cosine similarity of some slots' passages to a unit-length `vector` (rows are unit length)."""
        return self.data[slots] @ np.asarray(vector, dtype=np.float32)


class Corpus:
    """The live passages and their lexical index (see the module docstring)."""

    def __init__(self, stopwords: frozenset[str]) -> None:
        self.stopwords = stopwords
        self.lexical = LexicalIndex()
        self.vectors = VectorMatrix()
        self.slots: list[IndexedChunk | None] = []
        self.doc_slots: dict[str, list[int]] = {}
        self.docs: dict[str, DocumentMeta] = {}
        self.by_id: dict[str, IndexedChunk] = {}
        self.position: dict[str, int] = {}
        self.lock = ReadWriteLock()
        self.version = 0
        self.city_docs: dict[str, list[str]] = {}
        self.national_docs: list[str] = []
        self._items: list[IndexedChunk] | None = None
        self._features: OrderedDict[int, tuple[str, list[tuple[str, str]]]] = OrderedDict()
        self._features_lock = threading.Lock()

    # ---- building and changing
    def prepare(self, items: Iterable[IndexedChunk]) -> list[Prepared]:
        """Tokenise passages (no lock needed)."""
        return [Prepared(item, tokenize(lexical_text(item), self.stopwords)) for item in items]

    def replace(self, doc_ids: Iterable[str], prepared: list[Prepared]) -> None:
        """Take every passage of `doc_ids` out, then put `prepared` in (each is live), atomically for readers."""
        with self.lock.writing():
            for doc_id in set(doc_ids) | {p.item.meta.doc_id for p in prepared}:
                for slot in self.doc_slots.pop(doc_id, []):
                    item = self.slots[slot]
                    self.lexical.remove(slot)
                    self.slots[slot] = None
                    if item is not None:
                        self.by_id.pop(item.chunk.chunk_id, None)
                        self.position.pop(item.chunk.chunk_id, None)
                self.docs.pop(doc_id, None)
            for passage in prepared:
                self._add(passage)
            self._changed()

    def extend(self, prepared: list[Prepared]) -> None:
        """Add passages (of documents that may already have some here, e.g. a build in batches)."""
        with self.lock.writing():
            for passage in prepared:
                self._add(passage)
            self._changed()

    def _add(self, passage: Prepared) -> None:
        item = passage.item
        meta = self.docs.setdefault(item.meta.doc_id, item.meta)
        self.vectors.append(item.vector)
        if item.meta is not meta or item.vector is not None:  # one metadata object per document; the vector
            item = replace(item, meta=meta, vector=None)  # lives in the matrix, not twice
        slot = self.lexical.add(passage.tokens)
        self.slots.append(item)
        self.doc_slots.setdefault(meta.doc_id, []).append(slot)
        self.by_id[item.chunk.chunk_id] = item
        self.position[item.chunk.chunk_id] = slot

    def _changed(self) -> None:
        self.version += 1
        self._items = None
        city_docs: dict[str, list[str]] = {}
        national: list[str] = []
        for doc_id in sorted(self.docs, key=lambda d: self.doc_slots[d][0]):
            meta = self.docs[doc_id]
            city_docs.setdefault(meta.city, []).append(doc_id)
            if meta.level == "national" or meta.city in NATIONAL_CITY_NAMES:
                national.append(doc_id)
        self.city_docs, self.national_docs = city_docs, national

    # ---- reading (callers hold `lock.reading()` when a writer may run meanwhile)
    @property
    def items(self) -> list[IndexedChunk]:
        """The live passages in slot order."""
        items = self._items
        if items is None:
            items = self._items = [item for item in self.slots if item is not None]
        return items

    def __len__(self) -> int:
        return self.lexical.live

    def features(self, slot: int) -> tuple[str, list[tuple[str, str]]]:
        """(coverage text, quotable units with their lower-cased context) of a passage, computed when first
        asked for. The document's title is left out: front matter repeating it is not about every question."""
        with self._features_lock:
            found = self._features.get(slot)
            if found is not None:
                self._features.move_to_end(slot)
                return found
        item = self.slots[slot]
        cover = _in_context(item, item.chunk.text)
        units = [(u, _in_context(item, u)) for u in quotable_units(item.chunk.text)]
        with self._features_lock:
            self._features[slot] = (cover, units)
            if len(self._features) > _FEATURE_CACHE:
                self._features.popitem(last=False)
        return cover, units

    def responsible_features(self, slot: int) -> list[tuple[str, str]]:
        """The quotable units of a passage for a question asking who is responsible, with their context: each
        sentence carries the note of responsible units closing its item (see `with_responsible_notes`)."""
        _, units = self.features(slot)
        texts = [unit for unit, _ in units]
        if not has_notes(texts):
            return units
        item = self.slots[slot]
        return [(unit, _in_context(item, without_note(unit))) for unit in with_responsible_notes(texts)]

    def live_summary(self) -> dict[str, str]:
        """doc_id → content hash of every answering document."""
        return {doc_id: self.slots[slots[0]].content_hash for doc_id, slots in self.doc_slots.items()}

    # ---- snapshot
    def save(self, path: Path, key: SnapshotKey) -> None:
        """Write the corpus to `path` atomically (private to the service user)."""
        with self.lock.reading():
            state = {
                "format": SNAPSHOT_FORMAT,
                "key": asdict(key),
                "docs": {doc_id: asdict(meta) for doc_id, meta in self.docs.items()},
                "slots": [
                    None if item is None else (
                        item.chunk.chunk_id, item.meta.doc_id, item.chunk.ordinal, item.chunk.section,
                        item.chunk.text, item.content_hash, item.status, item.origin,
                    )
                    for item in self.slots
                ],
                "lexical": self.lexical.to_state(),
                # Rows below `size` never change (slots are not reused): a view, not a 200 MB copy.
                "vectors": self.vectors.data[: self.vectors.size],
                "vectors_complete": self.vectors.complete,
            }
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".lexical-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                pickle.dump(state, out, protocol=pickle.HIGHEST_PROTOCOL)
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path, stopwords: frozenset[str]) -> tuple[Corpus, SnapshotKey] | None:
        """The corpus saved at `path` with its key; None when there is none or it cannot be read."""
        try:
            with path.open("rb") as source:
                state = pickle.load(source)  # our own file, in the service's private data directory
            if state.get("format") != SNAPSHOT_FORMAT:
                return None
            corpus = cls(stopwords)
            docs = {doc_id: _meta(fields) for doc_id, fields in state["docs"].items()}
            corpus.lexical = LexicalIndex.from_state(state["lexical"])
            corpus.vectors = VectorMatrix(state["vectors"], state["vectors_complete"])
            for slot, row in enumerate(state["slots"]):
                if row is None:
                    corpus.slots.append(None)
                    continue
                chunk_id, doc_id, ordinal, section, text, content_hash, status, origin = row
                chunk = Chunk(chunk_id=chunk_id, doc_id=doc_id, ordinal=ordinal, section=tuple(section), text=text)
                item = IndexedChunk(chunk, docs[doc_id], content_hash, status, origin)
                corpus.slots.append(item)
                corpus.doc_slots.setdefault(doc_id, []).append(slot)
                corpus.by_id[chunk_id] = item
                corpus.position[chunk_id] = slot
            corpus.docs = {doc_id: docs[doc_id] for doc_id in corpus.doc_slots}
            corpus._changed()
            return corpus, SnapshotKey(**state["key"])
        except FileNotFoundError:
            return None
        except Exception:  # a damaged or foreign file: rebuild from the store instead
            log.warning("lexical snapshot %s unreadable; rebuilding it", path.name, exc_info=True)
            return None


def _meta(fields: dict) -> DocumentMeta:
    fields = dict(fields)
    fields["aliases"] = tuple(fields.get("aliases") or ())
    return DocumentMeta(**fields)


def _in_context(item: IndexedChunk, text: str) -> str:
    """`text` of a passage with its section path before it, lower-cased: what coverage is measured on. The
    document's title is left out (front matter repeating it is not about every question); an age range is
    spelt out, so that "两岁的娃" (2岁) is covered by "由3-6岁变更为2-6岁"."""
    title = item.meta.title
    section = " ".join(s for s in item.chunk.section if s != title)
    return f"{section} {text} {ages_in_ranges(text)}".replace(title, " ").lower()
