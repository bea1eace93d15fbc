"""The documents registry and the audit log: which policy documents exist, in which versions, which one
answers (status), where each file is, what ingest found in it — and who changed what, when.

This module only keeps records; `knowledge.admin` does the ingest and keeps the chunk store in step.
Every state change here is one transaction that also writes its audit entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from db.core import audit
from db.core.audit import AuditEntry
from db.core.engine import session_scope
from db.models import KnowledgeDocument

DRAFT, PUBLISHED, RETIRED, REPLACED, DISCARDED = "draft", "published", "retired", "replaced", "discarded"
#: Statuses whose document is kept (can be restored) but does not answer.
KEPT = (RETIRED, REPLACED)
_DOC_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_VERSION_SUFFIX = re.compile(r"-v\d+$")


def log_safe(value: object, limit: int = 80) -> str:
    """`value` for a log line: control characters (newlines, escapes) written as \\n, \\x1b …, so user text
    can never forge a log line; clipped to `limit` characters."""
    text = str(value)
    escaped = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)
    return escaped if len(escaped) <= limit else escaped[: limit - 1] + "…"


class RegistryError(ValueError):
    """A registry change that cannot be made. `code`: not_found, bad_state, bad_doc_id, exists."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Actor:
    """Who acts: a Telegram user (`telegram_id`) or a command-line user (`cli_user`)."""

    telegram_id: int | None = None
    cli_user: str = ""

    @property
    def label(self) -> str:
        """`tg:<id>` or `cli:<login>`, as written in the audit log."""
        return (
            f"tg:{self.telegram_id}" if self.telegram_id is not None else f"cli:{self.cli_user or 'unknown'}"
        )


def _now() -> datetime:
    return datetime.now(UTC)


# --- Audit log -----------------------------------------------------------------------------------------------


def record(engine: Engine, actor: str, action: str, **columns) -> None:
    """Append one entry to the audit log in its own transaction. TODO issue 11: callers move to
    `db.core.audit.record(..., session=...)` inside their own unit of work; then this goes."""
    with session_scope(engine) as session:
        audit.record(actor, action, session=session, **columns)


def record_for(
    engine: Engine, actor: Actor, action: str, doc: KnowledgeDocument | None = None, detail: str = ""
) -> None:
    """`record` for an `Actor`, about a document version when given."""
    record(
        engine,
        actor.label,
        action,
        actor_id=actor.telegram_id,
        doc_id=doc.doc_id if doc else None,
        version=doc.version if doc else None,
        content_hash=doc.content_hash if doc else "",
        detail=detail,
    )


def audit_entries(engine: Engine, doc_id: str | None = None, limit: int = 50) -> list[AuditEntry]:
    """The newest audit entries first. TODO issue 11: callers move to `db.core.audit.entries`."""
    with session_scope(engine) as session:
        return audit.entries(session=session, doc_id=doc_id, limit=limit)


# --- Reading -------------------------------------------------------------------------------------------------


def get_row(engine: Engine, row_id: int) -> KnowledgeDocument | None:
    """One version by its row id."""
    with session_scope(engine) as session:
        return session.get(KnowledgeDocument, row_id)


def versions(engine: Engine, doc_id: str) -> list[KnowledgeDocument]:
    """Every version of a document (drafts and discarded ones included), oldest first."""
    with session_scope(engine) as session:
        rows = session.exec(
            select(KnowledgeDocument)
            .where(KnowledgeDocument.doc_id == doc_id)
            .order_by(KnowledgeDocument.version)
        )
        return list(rows)


def current(engine: Engine, doc_id: str) -> KnowledgeDocument | None:
    """The version that represents the document: the published one, else the newest retired/replaced one."""
    rows = [r for r in versions(engine, doc_id) if r.status in (PUBLISHED, *KEPT)]
    published = [r for r in rows if r.status == PUBLISHED]
    return published[-1] if published else (rows[-1] if rows else None)


def list_documents(engine: Engine) -> list[KnowledgeDocument]:
    """One row per document (see `current`), published first, then by city and title."""
    with session_scope(engine) as session:
        rows = list(
            session.exec(
                select(KnowledgeDocument)
                .where(KnowledgeDocument.status.in_((PUBLISHED, *KEPT)))
                .order_by(KnowledgeDocument.doc_id, KnowledgeDocument.version)
            )
        )
    best: dict[str, KnowledgeDocument] = {}
    for row in rows:
        known = best.get(row.doc_id)
        if known is None or known.status != PUBLISHED:
            best[row.doc_id] = row
    return sorted(best.values(), key=lambda r: (r.status != PUBLISHED, r.city, r.title, r.doc_id))


def drafts(engine: Engine, created_by: str | None = None) -> list[KnowledgeDocument]:
    """Drafts waiting for publish or discard, newest first."""
    with session_scope(engine) as session:
        query = select(KnowledgeDocument).where(KnowledgeDocument.status == DRAFT)
        if created_by is not None:
            query = query.where(KnowledgeDocument.created_by == created_by)
        return list(session.exec(query.order_by(KnowledgeDocument.id.desc())))


def published_rows(engine: Engine) -> list[KnowledgeDocument]:
    """Every published version."""
    with session_scope(engine) as session:
        return list(session.exec(select(KnowledgeDocument).where(KnowledgeDocument.status == PUBLISHED)))


def all_rows(engine: Engine) -> list[KnowledgeDocument]:
    """Every version of every document."""
    with session_scope(engine) as session:
        return list(session.exec(select(KnowledgeDocument).order_by(KnowledgeDocument.id)))


def find_same_content(
    engine: Engine,
    content_hash: str,
    text_hash: str = "",
    statuses: tuple[str, ...] = (PUBLISHED, *KEPT, DRAFT),
) -> KnowledgeDocument | None:
    """A version with the same file (or, when `text_hash` is given, the same cleaned text), published
    ones first."""
    with session_scope(engine) as session:
        query = select(KnowledgeDocument).where(KnowledgeDocument.status.in_(statuses))
        if text_hash:
            query = query.where(
                (KnowledgeDocument.content_hash == content_hash) | (KnowledgeDocument.text_hash == text_hash)
            )
        else:
            query = query.where(KnowledgeDocument.content_hash == content_hash)
        rows = list(session.exec(query))
    order = {PUBLISHED: 0, DRAFT: 1, RETIRED: 2, REPLACED: 3}
    rows.sort(key=lambda r: (order.get(r.status, 9), -r.version))
    return rows[0] if rows else None


def suggest_doc_id(engine: Engine, base: str) -> str:
    """A free document id from `base` (lower-case ascii slug; `doc` when nothing is left of it)."""
    slug = re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-")[:30].strip("-") or "doc"
    slug = _VERSION_SUFFIX.sub("", slug) or "doc"
    if not slug[0].isalnum():
        slug = "doc-" + slug
    with session_scope(engine) as session:
        taken = set(
            session.exec(select(KnowledgeDocument.doc_id).where(KnowledgeDocument.doc_id.like(f"{slug}%")))
        )
    if slug not in taken:
        return slug
    n = 2
    while f"{slug}-{n}" in taken:
        n += 1
    return f"{slug}-{n}"


def check_doc_id(doc_id: str) -> str:
    """`doc_id` when it is a valid new id: lower-case letters, digits, - or _, at most 40, no -vN ending."""
    if not _DOC_ID.match(doc_id) or _VERSION_SUFFIX.search(doc_id):
        raise RegistryError(
            "bad_doc_id",
            f"document id {doc_id!r}: use 1–40 lower-case letters, digits, - or _ (not ending in -v2 …)",
        )
    return doc_id


def index_id_for(doc_id: str, version: int) -> str:
    """The id in the chunk store: the doc id for version 1, `{doc_id}-v{n}` after that."""
    return doc_id if version == 1 else f"{doc_id}-v{version}"


# --- Changing -----------------------------------------------------------------------------------------------


def sync_catalog(engine: Engine, entries: list[dict]) -> int:
    """Give each catalog document (fields of `KnowledgeDocument`, `doc_id` required) a published version-1
    row if it has none yet; returns how many were added. Safe to run from several processes at once."""
    with session_scope(engine) as session:
        known = set(session.exec(select(KnowledgeDocument.doc_id)))
    added = 0
    for fields in entries:
        if fields["doc_id"] in known:
            continue
        try:
            with session_scope(engine) as session:
                row = KnowledgeDocument(
                    **{
                        "version": 1,
                        "index_id": fields["doc_id"],
                        "origin": "catalog",
                        "status": PUBLISHED,
                        **fields,
                    }
                )
                row.published_at = row.created_at
                session.add(row)
                audit.record(
                    "system", "catalog", session=session, doc_id=row.doc_id, version=1, content_hash=row.content_hash
                )
            added += 1
        except IntegrityError:  # another process added it first
            continue
    return added


def create_draft(engine: Engine, actor: Actor, **fields) -> KnowledgeDocument:
    """A new draft version. For a new document give `doc_id` (checked) or leave it to `suggest_doc_id`;
    a new version of an existing document gives its `doc_id` and `replaces` (the index id it replaces)."""
    replaces = fields.get("replaces")
    with session_scope(engine) as session:
        if replaces:
            doc_id = fields["doc_id"]
            version = 1 + max(
                session.exec(
                    select(KnowledgeDocument.version).where(KnowledgeDocument.doc_id == doc_id)
                ).all()
                or [0]
            )
        else:
            doc_id = check_doc_id(fields["doc_id"])
            if session.exec(select(KnowledgeDocument.id).where(KnowledgeDocument.doc_id == doc_id)).first():
                raise RegistryError("exists", f"a document {doc_id!r} exists already; replace it instead")
            version = 1
        values = {**fields, "doc_id": doc_id, "version": version, "index_id": index_id_for(doc_id, version)}
        values.setdefault("created_by", actor.label)
        row = KnowledgeDocument(status=DRAFT, **values)
        session.add(row)
        session.flush()
        audit.record(
            actor.label,
            "upload",
            session=session,
            actor_id=actor.telegram_id,
            doc_id=doc_id,
            version=version,
            content_hash=row.content_hash,
            detail=f"draft of {row.file_name!r}" + (f", to replace {replaces}" if replaces else ""),
        )
    return row


def update_draft(engine: Engine, row_id: int, actor: Actor, **fields) -> KnowledgeDocument:
    """Change a draft's metadata (title, city, issuer, date, doc_number, aliases…)."""
    with session_scope(engine) as session:
        row = _row(session, row_id)
        if row.status != DRAFT:
            raise RegistryError("bad_state", f"{row.doc_id} v{row.version} is {row.status}, not a draft")
        changes = []
        for name, value in fields.items():
            if getattr(row, name) != value:
                changes.append(f"{name}: {getattr(row, name)!r} → {value!r}")
                setattr(row, name, value)
        row.updated_at = _now()
        if changes:
            _doc_entry(session, actor, "edit", row, "; ".join(changes))
    return row


def publish(engine: Engine, row_id: int, actor: Actor) -> tuple[KnowledgeDocument, KnowledgeDocument | None]:
    """Draft → published; the version it replaces (or any other published version of the same document)
    → replaced. Returns (published, replaced or None). One transaction."""
    with session_scope(engine) as session:
        row = _row(session, row_id)
        if row.status != DRAFT:
            raise RegistryError("bad_state", f"{row.doc_id} v{row.version} is {row.status}, not a draft")
        old = None
        for other in session.exec(
            select(KnowledgeDocument).where(
                KnowledgeDocument.doc_id == row.doc_id,
                KnowledgeDocument.status == PUBLISHED,
                KnowledgeDocument.id != row.id,
            )
        ):
            other.status, other.updated_at = REPLACED, _now()
            old = other
        row.status, row.updated_at, row.published_at = PUBLISHED, _now(), _now()
        detail = f"v{row.version} published" + (f", replacing v{old.version}" if old else "")
        _doc_entry(session, actor, "replace" if old else "publish", row, detail)
    return row, old


def discard(engine: Engine, row_id: int, actor: Actor) -> KnowledgeDocument:
    """Draft → discarded."""
    with session_scope(engine) as session:
        row = _row(session, row_id)
        if row.status != DRAFT:
            raise RegistryError("bad_state", f"{row.doc_id} v{row.version} is {row.status}, not a draft")
        row.status, row.updated_at = DISCARDED, _now()
        _doc_entry(session, actor, "discard", row, f"draft v{row.version} discarded")
    return row


def retire(engine: Engine, doc_id: str, actor: Actor) -> KnowledgeDocument:
    """The published version → retired (kept, no longer answering)."""
    with session_scope(engine) as session:
        row = session.exec(
            select(KnowledgeDocument).where(
                KnowledgeDocument.doc_id == doc_id, KnowledgeDocument.status == PUBLISHED
            )
        ).first()
        if row is None:
            raise RegistryError(
                "bad_state" if _exists(session, doc_id) else "not_found", f"{doc_id} is not published"
            )
        row.status, row.updated_at = RETIRED, _now()
        _doc_entry(session, actor, "retire", row, f"v{row.version} retired")
    return row


def restore(
    engine: Engine, doc_id: str, actor: Actor, version: int | None = None
) -> tuple[KnowledgeDocument, KnowledgeDocument | None]:
    """A retired or replaced version (the newest, or `version`) → published; a version published meanwhile
    → replaced. Returns (restored, replaced or None)."""
    with session_scope(engine) as session:
        rows = list(
            session.exec(
                select(KnowledgeDocument)
                .where(KnowledgeDocument.doc_id == doc_id)
                .order_by(KnowledgeDocument.version)
            )
        )
        if not rows:
            raise RegistryError("not_found", f"no document {doc_id}")
        candidates = [r for r in rows if r.status in KEPT and (version is None or r.version == version)]
        if not candidates:
            raise RegistryError("bad_state", f"{doc_id} has no retired or replaced version to restore")
        row = candidates[-1]
        old = None
        for other in rows:
            if other.status == PUBLISHED:
                other.status, other.updated_at = REPLACED, _now()
                old = other
        row.status, row.updated_at, row.published_at = PUBLISHED, _now(), _now()
        _doc_entry(session, actor, "restore", row, f"v{row.version} restored")
    return row, old


def _exists(session, doc_id: str) -> bool:
    return (
        session.exec(select(KnowledgeDocument.id).where(KnowledgeDocument.doc_id == doc_id)).first()
        is not None
    )


def _row(session, row_id: int) -> KnowledgeDocument:
    row = session.get(KnowledgeDocument, row_id)
    if row is None:
        raise RegistryError("not_found", f"no document version #{row_id}")
    return row


def _doc_entry(session, actor: Actor, action: str, row: KnowledgeDocument, detail: str) -> AuditEntry:
    return audit.record(
        actor.label,
        action,
        session=session,
        actor_id=actor.telegram_id,
        doc_id=row.doc_id,
        version=row.version,
        content_hash=row.content_hash,
        detail=detail,
    )
