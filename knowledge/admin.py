"""Staff keep the knowledge base current: ingest an upload into a draft, preview it, publish, replace,
retire, restore, re-index — without ever leaving the published knowledge base half-changed.

How an upload travels:

1. `retrieval.ingest.inspect_upload` reads the bytes (type by content, size limit, encrypted/corrupt PDFs, zip bombs and
   empty files are refused by `retrieval.loaders`), cleans the text (`retrieval.cleaning`), screens it for
   injected adverts and prompt-injection attempts (`retrieval.screening`: flagged sentences are cut out of what
   gets indexed, so they are never quoted to parents), and detects title, city, issuer, date and number.
2. `KnowledgeBase.ingest` refuses a file identical to a known document, stores the raw file under the
   data directory and records a *draft*. Nothing reaches the chunk store, so nothing reaches parents.
3. `KnowledgeBase.publish` is the switch. The draft is chunked and embedded in memory (the staging step),
   added to the chunk store under its own index id (a new version never overwrites the old one's
   passages), then the registry flips draft → published and old → replaced in one transaction, then the
   old passages are marked replaced, the change is logged (`db.knowledge.changes`: every worker re-reads
   that document) and this worker's searcher takes it in. A failure at any step
   undoes the earlier ones: the published knowledge base stays exactly as it was.
4. After each publish, replace, retire or restore the development question set runs again and the hit
   rate before and after is reported; any question that got worse is listed and the drop flagged.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from db.core.engine import session_scope
from db.knowledge import changes as knowledge_changes
from db.knowledge import registry as knowledge_registry
from db.models import KnowledgeDocument
from knowledge.quality import DEFAULT_DEV_SET, QualityChange, compare_reports
from retrieval.catalog import catalog_path, load_catalog
from retrieval.chunking import chunk_document
from retrieval.errors import ERROR_CODES, IngestError  # noqa: F401  (ERROR_CODES: re-exported)
from retrieval.evaluation import evaluate, read_eval_file
from retrieval.indexer import content_hash, embedding_text, staff_pipeline_fingerprint
from retrieval.ingest import (
    MAX_UPLOAD_BYTES,
    flags_json,
    ingest_bytes,
    inspect_upload,
    outline_counts,
    prepare_bytes,
    report_json,
    text_fingerprint,
)
from retrieval.loaders import LoaderError, detect_kind
from retrieval.metadata import normalise_date
from retrieval.places import stem as city_stem
from retrieval.screening import screen_sentence, screen_text
from retrieval.types import Chunk, DocumentMeta

log = logging.getLogger(__name__)
_EXTENSIONS = {"pdf": ".pdf", "docx": ".docx", "html": ".html", "text": ".txt"}
_TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown", ".html", ".htm"}


@dataclass
class ChangeResult:
    """The outcome of publish / replace / retire / restore."""

    action: str  # publish | replace | retire | restore | discard
    document: object  # db.models.KnowledgeDocument (the version concerned)
    previous: object | None = None  # the version it replaced, if any
    quality: QualityChange | None = None
    seconds: float = 0.0


@dataclass
class ReindexResult:
    """The outcome of `KnowledgeBase.reindex`."""

    indexed: list[str] = field(default_factory=list)
    unchanged: int = 0
    status_fixed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    missing_files: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "indexed": self.indexed,
            "unchanged": self.unchanged,
            "status_fixed": self.status_fixed,
            "removed": self.removed,
            "missing_files": self.missing_files,
            "seconds": self.seconds,
        }


EDITABLE_FIELDS = ("title", "city", "issuer", "date", "doc_number", "province", "aliases")
_FIELD_LIMITS = {"title": 200, "city": 32, "issuer": 120, "doc_number": 64, "province": 32}


def clean_field(name: str, value) -> object:
    """A metadata value as stored: trimmed, one line, within its length; dates normalised; a value that
    itself looks like an advert or an injection attempt is refused (titles are shown to parents)."""
    if name not in EDITABLE_FIELDS:
        raise IngestError("bad_metadata", f"unknown field {name!r}", field=name, reason="unknown_field")
    if name == "aliases":
        items = value if isinstance(value, list | tuple) else re.split(r"[,，、\s]+", str(value or ""))
        return [a.strip()[:32] for a in items if a and a.strip()][:10]
    text = " ".join(str(value or "").split())
    if name == "title":
        text = text.strip("《》")
    if name == "date":
        return normalise_date(text)
    if len(text) > _FIELD_LIMITS[name]:
        raise IngestError(
            "bad_metadata", f"{name} is longer than {_FIELD_LIMITS[name]} characters", field=name,
            reason="too_long", limit=_FIELD_LIMITS[name],
        )
    if text and screen_sentence(text):
        raise IngestError(
            "bad_metadata", f"{name} {text!r} looks like an advert or an instruction", field=name,
            reason="suspicious",
        )
    return text


class KnowledgeBase:
    """The staff operations over one policy service (its chunk store) and one database (its registry).

    The bot and the CLI share it. Changes are serialised by `service.kb_lock`.
    """

    def __init__(
        self,
        engine,
        service,
        dev_set: Path | None = DEFAULT_DEV_SET,
        max_upload_bytes: int = MAX_UPLOAD_BYTES,
    ) -> None:
        self.engine = engine
        self.service = service
        self.kb_dir: Path = service.kb_dir
        self.dev_set = dev_set if dev_set is not None and Path(dev_set).exists() else None
        self.max_upload_bytes = max_upload_bytes
        self._quality: tuple[int, object] | None = None
        self._catalog_synced = False

    # ---- registry helpers
    registry = knowledge_registry

    def sync_catalog(self) -> int:
        """Give the catalog documents registry rows (once)."""
        if self._catalog_synced:
            return 0
        known = {row.doc_id for row in self.registry.all_rows(self.engine)}
        entries = []
        for meta, path in load_catalog(self.service.knowledge_dir):
            if meta.doc_id in known:
                continue
            raw = path.read_bytes()
            ingested = ingest_bytes(meta, raw, path.name)  # as the catalog build indexes it
            chunks = ingested.chunks
            # Duplicates are found by the hash of the *screened* text, as uploads are (see inspect_upload).
            text = screen_text(ingested.text)[0]
            entries.append(
                {
                    "doc_id": meta.doc_id,
                    "title": meta.title,
                    "city": meta.city,
                    "province": meta.province,
                    "issuer": meta.issuer,
                    "date": meta.date,
                    "doc_number": meta.doc_number,
                    "aliases": list(meta.aliases),
                    "content_hash": hashlib.sha256(raw).hexdigest(),
                    "text_hash": text_fingerprint(text),
                    "file_path": meta.source_file,
                    "file_name": path.name,
                    "file_kind": detect_kind(raw),
                    "file_size": len(raw),
                    "sections": outline_counts(chunks),
                    "chunks": len(chunks),
                    "created_by": "catalog",
                }
            )
        added = self.registry.sync_catalog(self.engine, entries)
        self._catalog_synced = True
        return added

    def documents(self):
        """One row per document (published first), as `/kb` and `kb list` show them."""
        self.sync_catalog()
        return self.registry.list_documents(self.engine)

    def refresh_if_changed(self) -> bool:
        """Rebuild the searcher when the store's published documents differ from what it answers from (e.g.
        after `python -m bot kb …` changed a shared Chroma server). Returns True when it did."""
        if self.service.change_feed is not None:
            return self.service.sync(force=True)
        stored = {doc_id: doc.content_hash for doc_id, doc in self.service.store.documents().items() if doc.live}
        answering = self.service.searcher.corpus.live_summary()
        if stored == answering:
            return False
        with self.service.kb_lock:
            self.service.refresh()
        return True

    def drafts(self, actor=None):
        """Drafts waiting, newest first (only `actor`'s when given)."""
        return self.registry.drafts(self.engine, actor.label if actor is not None else None)

    def file_path(self, row) -> Path:
        """Where a version's raw file is."""
        if row.origin == "catalog" and row.version == 1:
            return catalog_path(self.service.knowledge_dir).parent / row.file_path
        return self.kb_dir / row.file_path

    def meta_for(self, row) -> DocumentMeta:
        """The chunk-store metadata of a version."""
        return DocumentMeta(
            doc_id=row.index_id,
            title=row.title,
            city=row.city,
            issuer=row.issuer,
            date=row.date,
            doc_number=row.doc_number,
            source_file=row.file_path,
            province=row.province,
            aliases=tuple(row.aliases or ()),
        )

    # ---- ingest
    def ingest(
        self,
        data: bytes,
        file_name: str,
        actor,
        *,
        overrides: dict | None = None,
        replace_doc_id: str | None = None,
        doc_id: str | None = None,
    ):
        """Turn an upload into a draft (nothing is published). `replace_doc_id` makes it the next version of
        that document. Raises `IngestError` with the reason when the file cannot be used; the refusal is
        recorded in the audit log."""
        registry = self.registry
        self.sync_catalog()
        try:
            inspection, old = self._check_upload(data, file_name, replace_doc_id)
            fields = _draft_fields(inspection, old, overrides or {})
        except IngestError as exc:
            # The outcome, size and content hash: not the file name or the loader's text (user text).
            registry.record_for(
                self.engine, actor, "reject",
                detail=f"{exc.code}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()[:16]}",
            )
            raise
        suffix = Path(inspection.file_name).suffix.lower()
        if inspection.kind in ("pdf", "docx") or suffix not in _TEXT_SUFFIXES:
            suffix = _EXTENSIONS[inspection.kind]
        relative = f"files/{inspection.content_hash}{suffix}"
        _write_atomic(self.kb_dir / relative, data)
        meta = DocumentMeta(doc_id="draft", title=fields["title"], city=fields["city"])
        chunks = chunk_document(meta, inspection.text)
        values = dict(
            fields,
            content_hash=inspection.content_hash,
            text_hash=inspection.text_hash,
            file_path=relative,
            file_name=inspection.file_name,
            file_kind=inspection.kind,
            file_size=inspection.size,
            sections=outline_counts(chunks),
            chunks=len(chunks),
            cleaning=report_json(inspection.cleaning),
            flags=flags_json(inspection.flags),
        )
        if old is not None:
            return registry.create_draft(
                self.engine, actor, doc_id=old.doc_id, replaces=old.index_id, **values
            )
        new_id = doc_id or registry.suggest_doc_id(self.engine, _slug_base(fields, inspection.file_name))
        try:
            return registry.create_draft(self.engine, actor, doc_id=new_id, **values)
        except registry.RegistryError as exc:
            if exc.code == "bad_doc_id":
                raise IngestError("bad_metadata", exc.message, field="doc_id", reason="bad_doc_id") from exc
            raise IngestError("duplicate", exc.message) from exc

    def _check_upload(self, data: bytes, file_name: str, replace_doc_id: str | None):
        """(inspection, the version it replaces or None); `IngestError` when the upload cannot be a draft:
        too large, unreadable, replacing an unknown document, or identical to a known one."""
        if len(data) > self.max_upload_bytes:
            raise IngestError(
                "too_large",
                f"{file_name} is {len(data)} bytes; the limit is {self.max_upload_bytes}",
                file_name=file_name,
                limit=self.max_upload_bytes,
                size=len(data),
            )
        inspection = inspect_upload(data, file_name, self.max_upload_bytes)
        old = None
        if replace_doc_id:
            old = self.registry.current(self.engine, replace_doc_id)
            if old is None:
                raise IngestError("not_found", f"no document {replace_doc_id}", doc_id=replace_doc_id)
        same = self.registry.find_same_content(self.engine, inspection.content_hash, inspection.text_hash)
        if same is not None:
            raise IngestError(
                "duplicate",
                f"identical to {same.doc_id} v{same.version} ({same.status}): {same.title}",
                doc_id=same.doc_id,
                version=same.version,
                status=same.status,
                title=same.title,
            )
        return inspection, old

    def edit(self, row_id: int, actor, **fields):
        """Change a draft's metadata (checked by `clean_field`); a new city brings its short name as alias."""
        cleaned = {name: clean_field(name, value) for name, value in fields.items()}
        row = self.registry.get_row(self.engine, row_id)
        if row is None:
            raise IngestError("not_found", f"no draft #{row_id}")
        if "city" in cleaned and cleaned["city"] and not fields.get("aliases"):
            stem = city_stem(cleaned["city"])
            cleaned["aliases"] = [stem] if stem != cleaned["city"] else []
        try:
            return self.registry.update_draft(self.engine, row_id, actor, **cleaned)
        except self.registry.RegistryError as exc:
            raise IngestError(exc.code, exc.message) from exc

    def discard(self, row_id: int, actor) -> ChangeResult:
        """Throw a draft away (its file is deleted unless another version uses it)."""
        try:
            row = self.registry.discard(self.engine, row_id, actor)
        except self.registry.RegistryError as exc:
            raise IngestError(exc.code, exc.message) from exc
        others = [
            r for r in self.registry.all_rows(self.engine) if r.file_path == row.file_path and r.id != row.id
        ]
        if not any(r.status != "discarded" for r in others):
            (self.kb_dir / row.file_path).unlink(missing_ok=True)
        return ChangeResult("discard", row)

    # ---- staging and the switch
    def stage(self, row) -> tuple[DocumentMeta, list[Chunk], object, str]:
        """Chunk and embed a version in memory: (meta, chunks, vectors, content hash). Touches no store."""
        path = self.file_path(row)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise IngestError(
                "not_found", f"the file of {row.doc_id} v{row.version} is missing: {path}"
            ) from exc
        meta = self.meta_for(row)
        try:
            chunks, _ = prepare_bytes(meta, raw, path.name, screen=True)
        except LoaderError as exc:
            raise IngestError(exc.code, exc.message) from exc
        if not chunks:
            raise IngestError("empty", f"{row.file_name} yields no passages")
        vectors = self.service.embedder.encode([embedding_text(meta, c) for c in chunks])
        digest = content_hash(
            raw, meta, self.service.embedder_name, staff_pipeline_fingerprint(self.service.knowledge_dir)
        )
        return meta, chunks, vectors, digest

    def publish(self, row_id: int, actor, evaluate: bool = True, notify: bool = True) -> ChangeResult:
        """Switch a draft in: it answers from now on; the version it replaces stops answering (kept).
        `notify=False` publishes silently: followers of the place get no policy-change alert."""
        started = time.perf_counter()
        registry = self.registry
        store = self.service.store
        with self.service.kb_lock:
            row = registry.get_row(self.engine, row_id)
            if row is None or row.status != "draft":
                raise IngestError(
                    "bad_state", f"#{row_id} is not a draft", status=getattr(row, "status", None)
                )
            missing = [name for name in ("title", "city") if not getattr(row, name).strip()]
            if missing:
                raise IngestError("bad_metadata", "a document needs a title and a city", fields=missing)
            same = registry.find_same_content(self.engine, row.content_hash, row.text_hash, ("published",))
            if same is not None:
                raise IngestError(
                    "duplicate", f"identical to {same.doc_id} v{same.version}", title=same.title
                )
            before = self.quality() if evaluate else None
            meta, chunks, vectors, digest = self.stage(row)
            store.delete_document(meta.doc_id)  # leftovers of an earlier failed attempt, never published
            store.add_document(meta, chunks, vectors, digest, status="published", origin="staff")
            try:
                published, old = registry.publish(self.engine, row_id, actor)
            except Exception:
                store.delete_document(meta.doc_id)
                raise
            if old is not None:
                try:
                    store.set_status(old.index_id, "replaced")
                except Exception:
                    log.exception(
                        "Could not mark %s replaced in the store; undoing the publish", old.index_id
                    )
                    self._undo_publish(published, old, actor)
                    raise
            self._record_change(
                "replace" if old else "publish", published, old.index_id if old else None, notify=notify
            )
            self.service.refresh([published.index_id] + ([old.index_id] if old else []))
            result = ChangeResult("replace" if old else "publish", published, old)
            if before is not None:
                result.quality = compare_reports(before, self.quality())
        result.seconds = round(time.perf_counter() - started, 3)
        return result

    def _undo_publish(self, published, old, actor) -> None:
        self.service.store.delete_document(published.index_id)
        self.service.store.set_status(old.index_id, "published")
        with session_scope(self.engine) as session:
            session.get(KnowledgeDocument, published.id).status = "draft"
            session.get(KnowledgeDocument, old.id).status = "published"
        self.registry.record_for(self.engine, actor, "undo", published, "publish undone after a store error")

    def retire(self, doc_id: str, actor, evaluate: bool = True) -> ChangeResult:
        """Stop a document answering (kept; `restore` brings it back)."""
        registry = self.registry
        self.sync_catalog()
        with self.service.kb_lock:
            before = self.quality() if evaluate else None
            try:
                row = registry.retire(self.engine, doc_id, actor)
            except registry.RegistryError as exc:
                raise IngestError(exc.code, exc.message, doc_id=doc_id) from exc
            try:
                self._ensure_in_store(row, "retired")
            except Exception:
                with session_scope(self.engine) as session:
                    session.get(KnowledgeDocument, row.id).status = "published"
                registry.record_for(self.engine, actor, "undo", row, "retire undone after a store error")
                raise
            self._record_change("retire", row)
            self.service.refresh([row.index_id])
            result = ChangeResult("retire", row)
            if before is not None:
                result.quality = compare_reports(before, self.quality())
        return result

    def restore(self, doc_id: str, actor, version: int | None = None, evaluate: bool = True) -> ChangeResult:
        """Make a retired or replaced version answer again (a version published meanwhile is replaced)."""
        registry = self.registry
        self.sync_catalog()
        with self.service.kb_lock:
            before = self.quality() if evaluate else None
            rows_before = {r.id: r.status for r in registry.versions(self.engine, doc_id)}
            try:
                row, old = registry.restore(self.engine, doc_id, actor, version)
            except registry.RegistryError as exc:
                raise IngestError(exc.code, exc.message, doc_id=doc_id) from exc
            try:
                self._ensure_in_store(row, "published")
                if old is not None:
                    self._ensure_in_store(old, "replaced")
            except Exception:
                with session_scope(self.engine) as session:
                    for rid, status in rows_before.items():
                        session.get(KnowledgeDocument, rid).status = status
                for r in (row, old):
                    if r is not None:
                        try:
                            self.service.store.set_status(r.index_id, rows_before[r.id])
                        except Exception:  # the store is what failed; `reindex` repairs it later
                            log.exception("Could not reset %s", r.index_id)
                registry.record_for(self.engine, actor, "undo", row, "restore undone after a store error")
                raise
            self._record_change("restore", row, old.index_id if old else None)
            self.service.refresh([row.index_id] + ([old.index_id] if old else []))
            result = ChangeResult("restore", row, old)
            if before is not None:
                result.quality = compare_reports(before, self.quality())
        return result

    def _record_change(self, action: str, row=None, previous_index_id: str | None = None, notify: bool = True) -> None:
        """Append the change to the database's log, so every other worker picks it up (see
        `db.knowledge.changes`); this worker's searcher is refreshed by the caller."""
        generation = knowledge_changes.record_change(
            self.engine, action,
            doc_id=row.doc_id if row is not None else "",
            index_id=row.index_id if row is not None else "",
            previous_index_id=previous_index_id,
            notify=notify,
        )
        self.service.note_generation(generation)

    def _ensure_in_store(self, row, status: str) -> None:
        """Give a version `status` in the chunk store, indexing it from its file when it is not there."""
        store = self.service.store
        if store.set_status(row.index_id, status) == 0:
            meta, chunks, vectors, digest = self.stage(row)
            origin = "catalog" if row.origin == "catalog" and row.version == 1 else "staff"
            store.add_document(meta, chunks, vectors, digest, status=status, origin=origin)

    def reindex(self, actor) -> ReindexResult:
        """Bring the chunk store in line with the registry and the pipeline: catalog documents rebuilt when
        changed, staff documents indexed from their files when missing or stale, every status as the
        registry says, passages of unknown staff documents removed."""
        started = time.perf_counter()
        result = ReindexResult()
        registry = self.registry
        self.sync_catalog()
        with self.service.kb_lock:
            build = self.service.build()
            result.indexed += [d.doc_id for d in build.documents if d.action == "indexed"]
            result.removed += [d.doc_id for d in build.documents if d.action == "removed"]
            store = self.service.store
            stored = store.documents()
            pipeline = staff_pipeline_fingerprint(self.service.knowledge_dir)
            wanted: dict[str, object] = {}
            for row in registry.all_rows(self.engine):
                if row.status in ("published", "retired", "replaced"):
                    wanted[row.index_id] = row
            for index_id, row in wanted.items():
                catalog_v1 = row.origin == "catalog" and row.version == 1
                have = stored.get(index_id)
                if not catalog_v1:
                    path = self.file_path(row)
                    if not path.is_file():
                        result.missing_files.append(index_id)
                        continue
                    digest = content_hash(
                        path.read_bytes(), self.meta_for(row), self.service.embedder_name, pipeline
                    )
                    if have is None or have.content_hash != digest:
                        meta, chunks, vectors, digest = self.stage(row)
                        store.replace_document(
                            meta, chunks, vectors, digest, status=row.status, origin="staff"
                        )
                        result.indexed.append(index_id)
                        continue
                if have is not None and have.status != row.status:
                    store.set_status(index_id, row.status)
                    result.status_fixed.append(index_id)
                elif have is not None:
                    result.unchanged += 1
            for index_id, have in stored.items():
                if have.origin == "staff" and index_id not in wanted:
                    store.delete_document(index_id)
                    result.removed.append(index_id)
            if result.indexed or result.removed or result.status_fixed:
                self._record_change("reindex")
            self.service.refresh()
        registry.record_for(
            self.engine,
            actor,
            "reindex",
            detail=f"indexed {len(result.indexed)}, statuses fixed {len(result.status_fixed)}, removed {len(result.removed)}",
        )
        result.seconds = round(time.perf_counter() - started, 3)
        return result

    # ---- quality
    def quality(self):
        """The development set's `EvalReport` for the knowledge base as it is now (cached until it changes);
        None when there is no development set."""
        if self.dev_set is None:
            return None
        generation = self.service.generation
        if self._quality is None or self._quality[0] != generation or self._quality[1] is None:
            items = read_eval_file(self.dev_set)
            report = evaluate(lambda q: self.service.ask(q, use_llm=False), items)
            self._quality = (generation, report)
        return self._quality[1]

    def preview_chunks(self, row) -> list[Chunk]:
        """The passages a draft would be indexed as (for a preview)."""
        path = self.file_path(row)
        chunks, _ = prepare_bytes(self.meta_for(row), path.read_bytes(), path.name, screen=True)
        return chunks


def _draft_fields(inspection, old, overrides: dict) -> dict:
    """A draft's metadata: what was detected (the replaced version's place when none was), staff's
    overrides (checked), and no field that itself looks like an advert or an injection."""
    fields = {
        "title": inspection.meta.title,
        "city": inspection.meta.city or (old.city if old else ""),
        "province": inspection.meta.province or (old.province if old else ""),
        "issuer": inspection.meta.issuer,
        "date": inspection.meta.date,
        "doc_number": inspection.meta.doc_number,
        "aliases": sorted(set(inspection.meta.aliases) | set(old.aliases if old else [])),
    }
    for name, value in overrides.items():
        if value is not None:
            fields[name] = clean_field(name, value)
    for name in ("title", "issuer", "doc_number", "city"):
        if fields[name] and screen_sentence(fields[name]):
            fields[name] = ""
    return fields


def _slug_base(fields: dict, file_name: str) -> str:
    stem = Path(file_name).stem
    ascii_stem = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")
    if len(ascii_stem) >= 3:
        return ascii_stem
    year = (fields.get("date") or "")[:4]
    return f"kb-{year}" if year else "kb"


def _write_atomic(path: Path, data: bytes) -> None:
    """Write a file so that readers see either nothing or all of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
