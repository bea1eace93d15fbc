"""Build or refresh the policy index from the document catalog: unchanged documents cost nothing,
changed ones have their passages replaced, documents gone from the catalog are removed.

Documents staff published (origin `staff`, raw file under the knowledge-base directory of the data dir)
are kept as they are; when the ingest pipeline changed they are re-indexed from their stored file.
A document's status (published / retired / replaced) survives re-indexing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from retrieval.catalog import load_catalog
from retrieval.embedding import Embedder
from retrieval.ingest import prepare_bytes, prepare_document  # noqa: F401  (prepare_document: re-exported)
from retrieval.screening import screening_fingerprint
from retrieval.store import ORIGIN_STAFF, ChunkStore, PreparedDocument
from retrieval.types import Chunk, DocumentMeta

# Bump when the indexed text changes in a way the fingerprint below cannot see.
PIPELINE_VERSION = "1"
_PIPELINE_SOURCES = ("loaders.py", "cleaning.py", "chunking.py", "tables.py", "ingest.py", "indexer.py")


def pipeline_fingerprint(knowledge_dir: Path) -> str:
    """Hash of the code and rules that turn a file into passages: changing any re-indexes every document."""
    digest = hashlib.sha256(PIPELINE_VERSION.encode())
    here = Path(__file__).resolve().parent
    for name in _PIPELINE_SOURCES:
        digest.update((here / name).read_bytes())
    rules = knowledge_dir / "cleaning_rules.yaml"
    if rules.exists():
        digest.update(rules.read_bytes())
    return digest.hexdigest()


def staff_pipeline_fingerprint(knowledge_dir: Path) -> str:
    """`pipeline_fingerprint` plus the screening rules that staff uploads also go through."""
    return hashlib.sha256(f"{pipeline_fingerprint(knowledge_dir)}|{screening_fingerprint()}".encode()).hexdigest()


@dataclass
class DocumentResult:
    """What happened to one document during a build."""

    doc_id: str
    title: str
    action: str  # "indexed" | "unchanged" | "removed"
    chunks: int = 0
    removed: dict[str, int] = field(default_factory=dict)
    removed_texts: list[str] = field(default_factory=list)


@dataclass
class BuildReport:
    """The outcome of `build_index`."""

    documents: list[DocumentResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        """True when anything was (re)indexed or removed."""
        return any(d.action != "unchanged" for d in self.documents)

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return asdict(self)


def embedding_text(meta: DocumentMeta, chunk: Chunk) -> str:
    """What the dense model sees for a passage: its place in the outline, then the text."""
    return f"{meta.city} {' '.join(chunk.section[-2:])}\n{chunk.text}"


def content_hash(raw: bytes, meta: DocumentMeta, embedder_name: str, pipeline: str) -> str:
    """Hash of everything that determines a document's indexed passages."""
    digest = hashlib.sha256()
    digest.update(raw)
    digest.update(json.dumps(asdict(meta), ensure_ascii=False, sort_keys=True).encode())
    digest.update(f"{pipeline}|{embedder_name}".encode())
    return digest.hexdigest()


def build_index(
    store: ChunkStore,
    knowledge_dir: Path,
    embedder_name: str,
    get_embedder: Callable[[], Embedder],
    kb_dir: Path | None = None,
) -> BuildReport:
    """Bring the store up to date with the catalog. The embedder is loaded only if something changed.

    Staff-published documents in the store are left alone, except that with `kb_dir` (the directory
    their `source_file` is relative to) one whose indexed hash is stale is re-indexed from its file.
    """
    import time

    started = time.perf_counter()
    report = BuildReport()
    stored = store.documents()
    indexed = {doc_id: doc.content_hash for doc_id, doc in stored.items()}
    catalog = load_catalog(knowledge_dir)
    pipeline = pipeline_fingerprint(knowledge_dir)
    staff = [doc for doc in stored.values() if doc.origin == ORIGIN_STAFF]
    staff_pipeline = staff_pipeline_fingerprint(knowledge_dir) if staff else ""
    todo: list[tuple[DocumentMeta, Path, bool]] = [(meta, path, False) for meta, path in catalog]
    for doc in staff:
        path = (kb_dir / doc.meta.source_file) if kb_dir is not None and doc.meta.source_file else None
        if path is not None and path.is_file():
            todo.append((doc.meta, path, True))
        else:
            report.documents.append(DocumentResult(doc.meta.doc_id, doc.meta.title, "unchanged"))
    for meta, path, screen in todo:
        raw = path.read_bytes()
        digest = content_hash(raw, meta, embedder_name, staff_pipeline if screen else pipeline)
        if indexed.get(meta.doc_id) == digest:
            report.documents.append(DocumentResult(meta.doc_id, meta.title, "unchanged"))
            continue
        chunks, cleaning = prepare_bytes(meta, raw, path.name, screen=screen)
        vectors = get_embedder().encode([embedding_text(meta, c) for c in chunks])
        store.replace_document(PreparedDocument(meta, chunks, vectors, digest))
        report.documents.append(
            DocumentResult(
                meta.doc_id,
                meta.title,
                "indexed",
                chunks=len(chunks),
                removed=cleaning.counts(),
                removed_texts=[r.text for r in cleaning.removals],
            )
        )
    known = {meta.doc_id for meta, _ in catalog} | {doc.meta.doc_id for doc in staff}
    for doc_id in set(indexed) - known:
        store.delete_document(doc_id)
        report.documents.append(DocumentResult(doc_id, "", "removed"))
    report.seconds = round(time.perf_counter() - started, 3)
    return report
