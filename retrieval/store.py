"""The chunk store: a Chroma collection holding each passage's vector, verbatim text and metadata.

Chroma is the single source of truth for what is indexed: the BM25 index and the staleness check
are both derived from it, so an embedded store and a Chroma server behave the same.

Every passage carries its document's `status`: `published` passages answer questions; `retired` and
`replaced` ones stay in the store (so a document can be restored without re-embedding) but are invisible
to `all_chunks()` and `dense_search()`. `origin` tells catalog documents (knowledge/policies) from the
ones staff published (their raw file lives under the data directory, `source_file` relative to it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from retrieval.types import Chunk, DocumentMeta

_BATCH = 256
_PAGE = 5000  # passages per read of a whole collection
FIRST_ORDINAL = 1  # passages are numbered from 1 (retrieval.chunking)
PUBLISHED = "published"
INACTIVE_STATUSES = ("retired", "replaced")
ORIGIN_CATALOG = "catalog"
ORIGIN_STAFF = "staff"
_ALIAS_SEPARATOR = "|"


@dataclass(frozen=True)
class IndexedChunk:
    """A passage as stored, with its document's metadata."""

    chunk: Chunk
    meta: DocumentMeta
    content_hash: str
    status: str = PUBLISHED
    origin: str = ORIGIN_CATALOG
    #: The passage's vector, when it was read with it (`with_vectors`); the corpus keeps it in its matrix.
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class StoredDocument:
    """What the store holds for one document: its metadata, hash, status and origin."""

    meta: DocumentMeta
    content_hash: str
    status: str
    origin: str

    @property
    def live(self) -> bool:
        """True when the document's passages answer questions."""
        return self.status not in INACTIVE_STATUSES


def open_chroma(index_dir: Path, host: str = "", port: int = 8000):
    """An embedded Chroma under `index_dir`, or a Chroma server when `host` is set."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False)
    if host:
        return chromadb.HttpClient(host=host, port=port, settings=settings)
    index_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(index_dir / "chroma"), settings=settings)


def collection_name(embedder_name: str) -> str:
    """One collection per embedding model, so switching models never mixes vector spaces."""
    slug = re.sub(r"[^a-zA-Z0-9._-]+", "-", embedder_name).strip("-._")[:60] or "default"
    return f"policy-{slug}"


@dataclass(frozen=True)
class PreparedDocument:
    """A document ready for the store: its metadata, its passages, their vectors (one row per passage) and the
    content hash of what they were prepared from."""

    meta: DocumentMeta
    chunks: list[Chunk]
    vectors: np.ndarray
    content_hash: str


class ChunkStore:
    """Read and replace the passages of documents in one Chroma collection."""

    def __init__(self, client, name: str) -> None:
        self._client = client
        self.collection = client.get_or_create_collection(
            name, metadata={"hnsw:space": "cosine"}, embedding_function=None
        )

    def close(self) -> None:
        """Release the Chroma client (an embedded one's SQLite files, a server's HTTP connections); the store is
        not used afterwards. Chroma counts the clients sharing one system and stops it with the last."""
        self._client.close()

    def _get_paged(self, **query) -> dict:
        """`collection.get(**query)` read a page at a time: one `get` of a large collection (100,000 passages)
        fails in Chroma's SQLite ("too many SQL variables")."""
        merged: dict = {"ids": [], "documents": [], "metadatas": [], "embeddings": []}
        offset = 0
        while True:
            got = self.collection.get(**query, limit=_PAGE, offset=offset)
            for key in merged:
                found = got.get(key)
                merged[key].extend(found if found is not None else [])
            if len(got["ids"]) < _PAGE:
                return merged
            offset += _PAGE

    def document_hashes(self) -> dict[str, str]:
        """doc_id → content hash of what is indexed now."""
        return {doc_id: doc.content_hash for doc_id, doc in self.documents().items()}

    def documents(self) -> dict[str, StoredDocument]:
        """doc_id → what is stored for it (any status). Every passage carries its document's metadata, so the
        first passage of each document is read, not all of them."""
        got = self._get_paged(where={"ordinal": {"$lte": FIRST_ORDINAL}}, include=["metadatas"])
        return {
            m["doc_id"]: StoredDocument(
                _meta_from_stored(m), m.get("content_hash", ""), m.get("status", PUBLISHED),
                m.get("origin", ORIGIN_CATALOG),
            )
            for m in got["metadatas"] or []
        }

    def replace_document(
        self, doc: PreparedDocument, *, status: str | None = None, origin: str | None = None
    ) -> None:
        """Swap a document's passages for new ones (old ones go first, so nothing stale remains).

        `status`/`origin` default to what the document had (a retired document stays retired when the
        pipeline re-indexes it), else `published`/`catalog`.
        """
        doc_id = doc.meta.doc_id
        if status is None or origin is None:
            before = self.collection.get(where={"doc_id": doc_id}, limit=1, include=["metadatas"])
            old = (before["metadatas"] or [{}])[0]
            status = status or old.get("status", PUBLISHED)
            origin = origin or old.get("origin", ORIGIN_CATALOG)
        self.delete_document(doc_id)
        self.add_document(doc, status=status, origin=origin)

    def add_document(
        self, doc: PreparedDocument, *, status: str = PUBLISHED, origin: str = ORIGIN_CATALOG
    ) -> None:
        """Add a document that is not in the store yet. All or nothing: when any batch fails, the passages
        already added are removed again and the error is raised."""
        meta, chunks, vectors, content_hash = doc.meta, doc.chunks, doc.vectors, doc.content_hash
        try:
            for start in range(0, len(chunks), _BATCH):
                part = chunks[start : start + _BATCH]
                self.collection.add(
                    ids=[c.chunk_id for c in part],
                    embeddings=np.asarray(vectors[start : start + _BATCH]).tolist(),
                    documents=[c.text for c in part],
                    metadatas=[_metadata(c, meta, content_hash, status, origin) for c in part],
                )
        except BaseException:
            self.delete_document(meta.doc_id)
            raise

    def set_status(self, doc_id: str, status: str) -> int:
        """Mark every passage of `doc_id` published, retired or replaced; returns how many passages."""
        got = self.collection.get(where={"doc_id": doc_id}, include=[])
        ids = list(got["ids"])
        for start in range(0, len(ids), _BATCH):
            part = ids[start : start + _BATCH]
            self.collection.update(ids=part, metadatas=[{"status": status} for _ in part])
        return len(ids)

    def delete_document(self, doc_id: str) -> None:
        """Remove every passage of `doc_id`."""
        self.collection.delete(where={"doc_id": doc_id})

    def all_chunks(self, include_inactive: bool = False, with_vectors: bool = False) -> list[IndexedChunk]:
        """Every stored passage that answers questions (all of them with `include_inactive`), in document order;
        `with_vectors` reads their vectors too."""
        items = _items_from(self._get_paged(include=_include(with_vectors)))
        if not include_inactive:
            items = [item for item in items if item.status not in INACTIVE_STATUSES]
        items.sort(key=lambda item: (item.meta.doc_id, item.chunk.ordinal))
        return items

    def document_chunks(self, doc_ids: list[str], with_vectors: bool = False) -> list[IndexedChunk]:
        """The answering passages of some documents (none for a retired, replaced or unknown one), in
        document order: what a worker re-reads after a change, instead of the whole store."""
        items: list[IndexedChunk] = []
        for start in range(0, len(doc_ids), _BATCH):
            part = doc_ids[start : start + _BATCH]
            got = self.collection.get(where={"doc_id": {"$in": part}}, include=_include(with_vectors))
            items += [item for item in _items_from(got) if item.status not in INACTIVE_STATUSES]
        items.sort(key=lambda item: (item.meta.doc_id, item.chunk.ordinal))
        return items

    def nearest(self, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        """(chunk_id, cosine similarity) of the `n` nearest passages of any status, from the vector index alone
        (no metadata filter: fast on a large collection; the caller drops the passages that do not answer)."""
        result = self.collection.query(query_embeddings=[vector.tolist()], n_results=n, include=["distances"])
        return [(cid, 1.0 - float(d)) for cid, d in zip(result["ids"][0], result["distances"][0], strict=True)]

    def dense_search(self, vector: np.ndarray, n: int, doc_ids: list[str] | None = None) -> list[tuple[str, float]]:
        """(chunk_id, cosine similarity) of the `n` nearest published passages, optionally within some documents."""
        live: dict = {"status": {"$nin": list(INACTIVE_STATUSES)}}  # also matches passages without a status
        where = {"$and": [{"doc_id": {"$in": doc_ids}}, live]} if doc_ids else live
        result = self.collection.query(
            query_embeddings=[vector.tolist()], n_results=n, where=where, include=["distances"]
        )
        return [(cid, 1.0 - float(d)) for cid, d in zip(result["ids"][0], result["distances"][0], strict=True)]


def _metadata(
    chunk: Chunk, meta: DocumentMeta, content_hash: str, status: str = PUBLISHED, origin: str = ORIGIN_CATALOG
) -> dict:
    return {
        "doc_id": meta.doc_id,
        "ordinal": chunk.ordinal,
        "section": "\u241e".join(chunk.section),  # a separator that never occurs in policy text
        "title": meta.title,
        "city": meta.city,
        "issuer": meta.issuer,
        "date": meta.date,
        "doc_number": meta.doc_number,
        "province": meta.province,
        "content_hash": content_hash,
        "status": status,
        "origin": origin,
        "source_file": meta.source_file,
        "aliases": _ALIAS_SEPARATOR.join(meta.aliases),
        "level": meta.level,
    }


def _include(with_vectors: bool) -> list[str]:
    return ["documents", "metadatas", "embeddings"] if with_vectors else ["documents", "metadatas"]


def _items_from(got: dict) -> list[IndexedChunk]:
    """Passages of a Chroma `get`, with one metadata object per document (not one per passage)."""
    metas: dict[str, DocumentMeta] = {}
    items = []
    vectors = got.get("embeddings")
    if vectors is None or len(vectors) == 0:
        vectors = [None] * len(got["ids"])
    for cid, text, m, vector in zip(got["ids"], got["documents"], got["metadatas"], vectors, strict=True):
        meta = metas.get(m["doc_id"])
        if meta is None:
            meta = metas[m["doc_id"]] = _meta_from_stored(m)
        item = _from_stored(cid, text, m, meta)
        if vector is not None:
            item = IndexedChunk(item.chunk, meta, item.content_hash, item.status, item.origin,
                                np.asarray(vector, dtype=np.float32))
        items.append(item)
    return items


def _from_stored(chunk_id: str, text: str, m: dict, meta: DocumentMeta | None = None) -> IndexedChunk:
    section = tuple(s for s in str(m.get("section", "")).split("\u241e") if s)
    chunk = Chunk(chunk_id=chunk_id, doc_id=m["doc_id"], ordinal=int(m["ordinal"]), section=section, text=text)
    return IndexedChunk(
        chunk=chunk,
        meta=meta or _meta_from_stored(m),
        content_hash=m.get("content_hash", ""),
        status=m.get("status", PUBLISHED),
        origin=m.get("origin", ORIGIN_CATALOG),
    )


def _meta_from_stored(m: dict) -> DocumentMeta:
    aliases = str(m.get("aliases", "") or "")
    return DocumentMeta(
        doc_id=m["doc_id"],
        title=m.get("title", ""),
        city=m.get("city", ""),
        issuer=m.get("issuer", ""),
        date=m.get("date", ""),
        doc_number=m.get("doc_number", ""),
        source_file=m.get("source_file", ""),
        province=m.get("province", ""),
        aliases=tuple(a for a in aliases.split(_ALIAS_SEPARATOR) if a),
        level=m.get("level", "") or "",
    )
