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

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TypeVar

from sqlalchemy.exc import IntegrityError

from db.core.audit import Actor
from db.core.engine import run_unit, session_scope
from db.core.rows import from_row
from db.knowledge import changes as knowledge_changes
from db.knowledge import registry
from db.knowledge.registry import RegistryError
from knowledge.quality import DEFAULT_DEV_SET, QualityChange, compare_reports
from knowledge.uploads import (
    EDITABLE_FIELDS,  # noqa: F401  (re-exported)
    Upload,
    catalog_entry,
    clean_field,
    draft_fields,
    draft_values,
    slug_base,
    stored_path,
    write_atomic,
)
from retrieval.catalog import catalog_path, load_catalog
from retrieval.chunking import chunk_document
from retrieval.errors import ERROR_CODES, IngestError  # noqa: F401  (ERROR_CODES: re-exported)
from retrieval.evaluation import evaluate, read_eval_file
from retrieval.indexer import content_hash, embedding_text, staff_pipeline_fingerprint
from retrieval.ingest import MAX_UPLOAD_BYTES, inspect_upload, prepare_bytes
from retrieval.loaders import LoaderError
from retrieval.places import stem as city_stem
from retrieval.store import PreparedDocument
from retrieval.types import Chunk, DocumentMeta

log = logging.getLogger(__name__)
T = TypeVar("T")
_CATALOG_ATTEMPTS = 3


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
        return asdict(self)


class KnowledgeBase:
    """The staff operations over one policy service (its chunk store) and one database (its registry).

    The bot and the CLI share it. Changes are serialised by `service.kb_lock`. Each database step is one unit of
    work (`session_scope`): the chunk store is changed between them, and a step the store refuses is undone.
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

    def unit(self, work: Callable[..., T], /, *args, **kwargs) -> T:
        """`work(*args, session=…, **kwargs)` as one unit of work on this knowledge base's database."""
        return run_unit(self.engine, work, *args, **kwargs)

    def sync_catalog(self) -> int:
        """Give the catalog documents registry rows (once). Another process adding the same ones at the same
        moment makes the unit fail; it is tried again, and then skips them."""
        if self._catalog_synced:
            return 0
        known = {row.doc_id for row in self.unit(registry.all_rows)}
        entries = [
            catalog_entry(meta, path)
            for meta, path in load_catalog(self.service.knowledge_dir)
            if meta.doc_id not in known
        ]
        for attempt in range(_CATALOG_ATTEMPTS):
            try:
                added = self.unit(registry.sync_catalog, entries)
            except IntegrityError:
                log.info("catalog rows added concurrently (attempt %s); trying again", attempt + 1)
                continue
            self._catalog_synced = True
            return added
        return 0

    def documents(self):
        """One row per document (published first), as `/kb` and `kb list` show them."""
        self.sync_catalog()
        return self.unit(registry.list_documents)

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

    def drafts(self, actor: Actor | None = None):
        """Drafts waiting, newest first (only `actor`'s when given)."""
        return self.unit(registry.drafts, actor.label if actor is not None else None)

    def file_path(self, row) -> Path:
        """Where a version's raw file is."""
        if row.origin == "catalog" and row.version == 1:
            return catalog_path(self.service.knowledge_dir).parent / row.file_path
        return self.kb_dir / row.file_path

    def meta_for(self, row) -> DocumentMeta:
        """The chunk-store metadata of a version."""
        return from_row(
            DocumentMeta, row, doc_id=row.index_id, source_file=row.file_path, aliases=tuple(row.aliases or ())
        )

    # ---- ingest
    def ingest(self, upload: Upload, actor: Actor):
        """Turn an upload into a draft (nothing is published). `upload.replace_doc_id` makes it the next version
        of that document. Raises `IngestError` with the reason when the file cannot be used; the refusal is
        recorded in the audit log."""
        self.sync_catalog()
        try:
            inspection, old = self._check_upload(upload)
            fields = draft_fields(inspection, old, upload.overrides)
        except IngestError as exc:
            # The outcome, size and content hash: not the file name or the loader's text (user text).
            self.unit(registry.record_for, actor, "reject", detail=f"{exc.code}: {upload.summary}")
            raise
        relative = stored_path(inspection)
        write_atomic(self.kb_dir / relative, upload.data)
        meta = DocumentMeta(doc_id="draft", title=fields["title"], city=fields["city"])
        values = draft_values(inspection, fields, relative, chunk_document(meta, inspection.text))
        if old is not None:
            return self.unit(registry.create_draft, actor, doc_id=old.doc_id, replaces=old.index_id, **values)

        def create(*, session):
            new_id = upload.doc_id or registry.suggest_doc_id(slug_base(fields, inspection.file_name), session=session)
            return registry.create_draft(actor, session=session, doc_id=new_id, **values)

        try:
            return self.unit(create)
        except RegistryError as exc:
            if exc.code == "bad_doc_id":
                raise IngestError("bad_metadata", exc.message, field="doc_id", reason="bad_doc_id") from exc
            raise IngestError("duplicate", exc.message) from exc

    def _check_upload(self, upload: Upload):
        """(inspection, the version it replaces or None); `IngestError` when the upload cannot be a draft:
        too large, unreadable, replacing an unknown document, or identical to a known one."""
        size = len(upload.data)
        if size > self.max_upload_bytes:
            raise IngestError(
                "too_large",
                f"{upload.file_name} is {size} bytes; the limit is {self.max_upload_bytes}",
                file_name=upload.file_name,
                limit=self.max_upload_bytes,
                size=size,
            )
        inspection = inspect_upload(upload.data, upload.file_name, self.max_upload_bytes)
        with session_scope(self.engine) as session:
            old = registry.current(upload.replace_doc_id, session=session) if upload.replace_doc_id else None
            same = registry.find_same_content(inspection.content_hash, inspection.text_hash, session=session)
        if upload.replace_doc_id and old is None:
            raise IngestError("not_found", f"no document {upload.replace_doc_id}", doc_id=upload.replace_doc_id)
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

    def edit(self, row_id: int, actor: Actor, **fields):
        """Change a draft's metadata (checked by `clean_field`); a new city brings its short name as alias."""
        cleaned = {name: clean_field(name, value) for name, value in fields.items()}
        if "city" in cleaned and cleaned["city"] and not fields.get("aliases"):
            stem = city_stem(cleaned["city"])
            cleaned["aliases"] = [stem] if stem != cleaned["city"] else []
        try:
            with session_scope(self.engine) as session:
                if registry.get_row(row_id, session=session) is None:
                    raise IngestError("not_found", f"no draft #{row_id}")
                return registry.update_draft(row_id, actor, session=session, **cleaned)
        except RegistryError as exc:
            raise IngestError(exc.code, exc.message) from exc

    def discard(self, row_id: int, actor: Actor) -> ChangeResult:
        """Throw a draft away (its file is deleted unless another version uses it)."""
        try:
            with session_scope(self.engine) as session:
                row = registry.discard(row_id, actor, session=session)
                others = [
                    r for r in registry.all_rows(session=session) if r.file_path == row.file_path and r.id != row.id
                ]
        except RegistryError as exc:
            raise IngestError(exc.code, exc.message) from exc
        if not any(r.status != "discarded" for r in others):
            (self.kb_dir / row.file_path).unlink(missing_ok=True)
        return ChangeResult("discard", row)

    # ---- staging and the switch
    def stage(self, row) -> PreparedDocument:
        """Chunk and embed a version in memory, ready for the store (which it does not touch)."""
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
        return PreparedDocument(meta, chunks, vectors, digest)

    def publish(self, row_id: int, actor: Actor, evaluate: bool = True, notify: bool = True) -> ChangeResult:
        """Switch a draft in: it answers from now on; the version it replaces stops answering (kept).
        `notify=False` publishes silently: followers of the place get no policy-change alert."""
        started = time.perf_counter()
        store = self.service.store
        with self.service.kb_lock:
            row = self._publishable(row_id)
            before = self.quality() if evaluate else None
            doc = self.stage(row)
            store.delete_document(doc.meta.doc_id)  # leftovers of an earlier failed attempt, never published
            store.add_document(doc, status="published", origin="staff")
            try:
                published, old = self.unit(registry.publish, row_id, actor)
            except Exception:
                store.delete_document(doc.meta.doc_id)
                raise
            if old is not None:
                try:
                    store.set_status(old.index_id, "replaced")
                except Exception:
                    log.exception("Could not mark %s replaced in the store; undoing the publish", old.index_id)
                    store.delete_document(published.index_id)
                    store.set_status(old.index_id, "published")
                    self._undo(actor, published, {published.id: "draft", old.id: "published"}, "publish")
                    raise
            result = self._changed(ChangeResult("replace" if old else "publish", published, old), before, notify)
        result.seconds = round(time.perf_counter() - started, 3)
        return result

    def _publishable(self, row_id: int):
        """The draft `row_id` when it can be published: a draft, with a title and a city, not a copy of a
        published document."""
        with session_scope(self.engine) as session:
            row = registry.get_row(row_id, session=session)
            if row is None or row.status != "draft":
                raise IngestError("bad_state", f"#{row_id} is not a draft", status=getattr(row, "status", None))
            missing = [name for name in ("title", "city") if not getattr(row, name).strip()]
            if missing:
                raise IngestError("bad_metadata", "a document needs a title and a city", fields=missing)
            same = registry.find_same_content(row.content_hash, row.text_hash, ("published",), session=session)
        if same is not None:
            raise IngestError("duplicate", f"identical to {same.doc_id} v{same.version}", title=same.title)
        return row

    def _undo(self, actor: Actor, row, statuses: dict[int, str], what: str) -> None:
        """Put the registry back (`statuses` by row id) after the chunk store refused a change; recorded."""

        def work(*, session) -> None:
            registry.set_statuses(statuses, session=session)
            registry.record_for(actor, "undo", session=session, doc=row, detail=f"{what} undone after a store error")

        self.unit(work)

    def retire(self, doc_id: str, actor: Actor, evaluate: bool = True) -> ChangeResult:
        """Stop a document answering (kept; `restore` brings it back)."""
        self.sync_catalog()
        with self.service.kb_lock:
            before = self.quality() if evaluate else None
            try:
                row = self.unit(registry.retire, doc_id, actor)
            except RegistryError as exc:
                raise IngestError(exc.code, exc.message, doc_id=doc_id) from exc
            try:
                self._ensure_in_store(row, "retired")
            except Exception:
                self._undo(actor, row, {row.id: "published"}, "retire")
                raise
            return self._changed(ChangeResult("retire", row), before)

    def restore(self, doc_id: str, actor: Actor, version: int | None = None, evaluate: bool = True) -> ChangeResult:
        """Make a retired or replaced version answer again (a version published meanwhile is replaced)."""
        self.sync_catalog()
        with self.service.kb_lock:
            before = self.quality() if evaluate else None

            def work(*, session):
                statuses = {r.id: r.status for r in registry.versions(doc_id, session=session)}
                return statuses, *registry.restore(doc_id, actor, version, session=session)

            try:
                rows_before, row, old = self.unit(work)
            except RegistryError as exc:
                raise IngestError(exc.code, exc.message, doc_id=doc_id) from exc
            try:
                self._ensure_in_store(row, "published")
                if old is not None:
                    self._ensure_in_store(old, "replaced")
            except Exception:
                self._undo(actor, row, rows_before, "restore")
                for r in (row, old):
                    if r is not None:
                        try:
                            self.service.store.set_status(r.index_id, rows_before[r.id])
                        except Exception:  # the store is what failed; `reindex` repairs it later
                            log.exception("Could not reset %s", r.index_id)
                raise
            return self._changed(ChangeResult("restore", row, old), before)

    def _changed(self, result: ChangeResult, before, notify: bool = True) -> ChangeResult:
        """After the registry and the store agree on a change: log it for the other workers, refresh this
        worker's searcher on the documents concerned, and compare the quality with `before` (when measured)."""
        row, old = result.document, result.previous
        previous_index_id = old.index_id if old is not None else None
        self._record_change(result.action, row, previous_index_id, notify=notify)
        self.service.refresh([row.index_id] + ([previous_index_id] if previous_index_id else []))
        if before is not None:
            result.quality = compare_reports(before, self.quality())
        return result

    def _record_change(self, action: str, row=None, previous_index_id: str | None = None, notify: bool = True) -> None:
        """Append the change to the database's log, so every other worker picks it up (see
        `db.knowledge.changes`); this worker's searcher is refreshed by the caller."""
        change = knowledge_changes.NewChange(
            action,
            doc_id=row.doc_id if row is not None else "",
            index_id=row.index_id if row is not None else "",
            previous_index_id=previous_index_id,
            notify=notify,
        )
        generation = self.unit(knowledge_changes.record_change, change)
        self.service.note_generation(generation)

    def _ensure_in_store(self, row, status: str) -> None:
        """Give a version `status` in the chunk store, indexing it from its file when it is not there."""
        store = self.service.store
        if store.set_status(row.index_id, status) == 0:
            origin = "catalog" if row.origin == "catalog" and row.version == 1 else "staff"
            store.add_document(self.stage(row), status=status, origin=origin)

    def reindex(self, actor: Actor) -> ReindexResult:
        """Bring the chunk store in line with the registry and the pipeline: catalog documents rebuilt when
        changed, staff documents indexed from their files when missing or stale, every status as the
        registry says, passages of unknown staff documents removed."""
        started = time.perf_counter()
        result = ReindexResult()
        self.sync_catalog()
        with self.service.kb_lock:
            build = self.service.build()
            result.indexed += [d.doc_id for d in build.documents if d.action == "indexed"]
            result.removed += [d.doc_id for d in build.documents if d.action == "removed"]
            wanted = {
                row.index_id: row
                for row in self.unit(registry.all_rows)
                if row.status in ("published", "retired", "replaced")
            }
            self._reconcile(wanted, result)
            if result.indexed or result.removed or result.status_fixed:
                self._record_change("reindex")
            self.service.refresh()
        detail = (
            f"indexed {len(result.indexed)}, statuses fixed {len(result.status_fixed)}, removed {len(result.removed)}"
        )
        self.unit(registry.record_for, actor, "reindex", detail=detail)
        result.seconds = round(time.perf_counter() - started, 3)
        return result

    def _reconcile(self, wanted: dict, result: ReindexResult) -> None:
        """Index, fix the status of, or remove chunk-store documents so that they are what `wanted` (index id →
        registry row) says; what was done goes into `result`."""
        store = self.service.store
        stored = store.documents()
        pipeline = staff_pipeline_fingerprint(self.service.knowledge_dir)
        for index_id, row in wanted.items():
            have = stored.get(index_id)
            if not (row.origin == "catalog" and row.version == 1):
                path = self.file_path(row)
                if not path.is_file():
                    result.missing_files.append(index_id)
                    continue
                digest = content_hash(path.read_bytes(), self.meta_for(row), self.service.embedder_name, pipeline)
                if have is None or have.content_hash != digest:
                    store.replace_document(self.stage(row), status=row.status, origin="staff")
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


