"""The chunk store: a Chroma collection holding each passage's vector, verbatim text and metadata.

Chroma is the single source of truth for what is indexed: the BM25 index and the staleness check
are both derived from it, so an embedded store and a Chroma server behave the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval.types import Chunk, DocumentMeta

_BATCH = 256


@dataclass(frozen=True)
class IndexedChunk:
    """A passage as stored, with its document's metadata."""

    chunk: Chunk
    meta: DocumentMeta
    content_hash: str


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


class ChunkStore:
    """Read and replace the passages of documents in one Chroma collection."""

    def __init__(self, client, name: str) -> None:
        self._client = client
        self.collection = client.get_or_create_collection(
            name, metadata={"hnsw:space": "cosine"}, embedding_function=None
        )

    def document_hashes(self) -> dict[str, str]:
        """doc_id → content hash of what is indexed now."""
        got = self.collection.get(include=["metadatas"])
        return {m["doc_id"]: m["content_hash"] for m in got["metadatas"] or []}

    def replace_document(
        self, meta: DocumentMeta, chunks: list[Chunk], vectors: np.ndarray, content_hash: str
    ) -> None:
        """Swap a document's passages for new ones (old ones go first, so nothing stale remains)."""
        self.delete_document(meta.doc_id)
        for start in range(0, len(chunks), _BATCH):
            part = chunks[start : start + _BATCH]
            self.collection.add(
                ids=[c.chunk_id for c in part],
                embeddings=vectors[start : start + _BATCH].tolist(),
                documents=[c.text for c in part],
                metadatas=[_metadata(c, meta, content_hash) for c in part],
            )

    def delete_document(self, doc_id: str) -> None:
        """Remove every passage of `doc_id`."""
        self.collection.delete(where={"doc_id": doc_id})

    def all_chunks(self) -> list[IndexedChunk]:
        """Every stored passage, in document order."""
        got = self.collection.get(include=["documents", "metadatas"])
        items = [_from_stored(cid, text, m) for cid, text, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)]
        items.sort(key=lambda item: (item.meta.doc_id, item.chunk.ordinal))
        return items

    def dense_search(self, vector: np.ndarray, n: int, doc_ids: list[str] | None = None) -> list[tuple[str, float]]:
        """(chunk_id, cosine similarity) of the `n` nearest passages, optionally within some documents."""
        where = {"doc_id": {"$in": doc_ids}} if doc_ids else None
        count = self.collection.count()
        if count == 0:
            return []
        result = self.collection.query(
            query_embeddings=[vector.tolist()], n_results=min(n, count), where=where, include=["distances"]
        )
        return [(cid, 1.0 - float(d)) for cid, d in zip(result["ids"][0], result["distances"][0], strict=True)]


def _metadata(chunk: Chunk, meta: DocumentMeta, content_hash: str) -> dict:
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
    }


def _from_stored(chunk_id: str, text: str, m: dict) -> IndexedChunk:
    section = tuple(s for s in str(m.get("section", "")).split("\u241e") if s)
    chunk = Chunk(chunk_id=chunk_id, doc_id=m["doc_id"], ordinal=int(m["ordinal"]), section=section, text=text)
    meta = DocumentMeta(
        doc_id=m["doc_id"],
        title=m.get("title", ""),
        city=m.get("city", ""),
        issuer=m.get("issuer", ""),
        date=m.get("date", ""),
        doc_number=m.get("doc_number", ""),
        province=m.get("province", ""),
    )
    return IndexedChunk(chunk=chunk, meta=meta, content_hash=m.get("content_hash", ""))
