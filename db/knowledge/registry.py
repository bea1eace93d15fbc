"""The documents registry: which policy documents exist, in which versions, which one answers (status),
where each file is, what ingest found in it. Every change writes its audit entry (`db.core.audit`) in the
caller's session, so the two commit together.

This module only keeps records; `knowledge.admin` does the ingest and keeps the chunk store in step.
Functions take the caller's `session` (keyword-only) and never commit; they flush what they change.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlmodel import Session, select

from db.core import audit
from db.core.audit import Actor, AuditEntry
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


def _now() -> datetime:
    return datetime.now(UTC)


def record_for(
    actor: Actor, action: str, *, session: Session, doc: KnowledgeDocument | None = None, detail: str = ""
) -> AuditEntry:
    """An audit entry by `actor`, about a document version when given, in the caller's unit of work."""
    if doc is None:
        return audit.record_by(actor, action, session=session, detail=detail)
    return audit.record_by(
        actor, action, session=session, detail=detail,
        doc_id=doc.doc_id, version=doc.version, content_hash=doc.content_hash,
    )


# --- Reading -------------------------------------------------------------------------------------------------


def get_row(row_id: int, *, session: Session) -> KnowledgeDocument | None:
    """One version by its row id."""
    return session.get(KnowledgeDocument, row_id)


def versions(doc_id: str, *, session: Session) -> list[KnowledgeDocument]:
    """Every version of a document (drafts and discarded ones included), oldest first."""
    query = select(KnowledgeDocument).where(KnowledgeDocument.doc_id == doc_id)
    return list(session.exec(query.order_by(KnowledgeDocument.version)))


def current(doc_id: str, *, session: Session) -> KnowledgeDocument | None:
    """The version that represents the document: the published one, else the newest retired/replaced one."""
    rows = [r for r in versions(doc_id, session=session) if r.status in (PUBLISHED, *KEPT)]
    published = [r for r in rows if r.status == PUBLISHED]
    return published[-1] if published else (rows[-1] if rows else None)


def list_documents(*, session: Session) -> list[KnowledgeDocument]:
    """One row per document (see `current`), published first, then by city and title."""
    rows = session.exec(
        select(KnowledgeDocument)
        .where(KnowledgeDocument.status.in_((PUBLISHED, *KEPT)))
        .order_by(KnowledgeDocument.doc_id, KnowledgeDocument.version)
    )
    best: dict[str, KnowledgeDocument] = {}
    for row in rows:
        known = best.get(row.doc_id)
        if known is None or known.status != PUBLISHED:
            best[row.doc_id] = row
    return sorted(best.values(), key=lambda r: (r.status != PUBLISHED, r.city, r.title, r.doc_id))


def drafts(created_by: str | None = None, *, session: Session) -> list[KnowledgeDocument]:
    """Drafts waiting for publish or discard, newest first."""
    query = select(KnowledgeDocument).where(KnowledgeDocument.status == DRAFT)
    if created_by is not None:
        query = query.where(KnowledgeDocument.created_by == created_by)
    return list(session.exec(query.order_by(KnowledgeDocument.id.desc())))


def published_rows(*, session: Session) -> list[KnowledgeDocument]:
    """Every published version."""
    return list(session.exec(select(KnowledgeDocument).where(KnowledgeDocument.status == PUBLISHED)))


def all_rows(*, session: Session) -> list[KnowledgeDocument]:
    """Every version of every document."""
    return list(session.exec(select(KnowledgeDocument).order_by(KnowledgeDocument.id)))


def find_same_content(
    content_hash: str,
    text_hash: str = "",
    statuses: tuple[str, ...] = (PUBLISHED, *KEPT, DRAFT),
    *,
    session: Session,
) -> KnowledgeDocument | None:
    """A version with the same file (or, when `text_hash` is given, the same cleaned text), published
    ones first."""
    query = select(KnowledgeDocument).where(KnowledgeDocument.status.in_(statuses))
    same = KnowledgeDocument.content_hash == content_hash
    if text_hash:
        same = same | (KnowledgeDocument.text_hash == text_hash)
    rows = list(session.exec(query.where(same)))
    order = {PUBLISHED: 0, DRAFT: 1, RETIRED: 2, REPLACED: 3}
    rows.sort(key=lambda r: (order.get(r.status, 9), -r.version))
    return rows[0] if rows else None


def suggest_doc_id(base: str, *, session: Session) -> str:
    """A free document id from `base` (lower-case ascii slug; `doc` when nothing is left of it)."""
    slug = re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-")[:30].strip("-") or "doc"
    slug = _VERSION_SUFFIX.sub("", slug) or "doc"
    if not slug[0].isalnum():
        slug = "doc-" + slug
    taken = set(session.exec(select(KnowledgeDocument.doc_id).where(KnowledgeDocument.doc_id.like(f"{slug}%"))))
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


def sync_catalog(entries: list[dict], *, session: Session) -> int:
    """Give each catalog document (fields of `KnowledgeDocument`, `doc_id` required) a published version-1
    row if it has none yet; returns how many were added. Another process adding one at the same moment
    makes the caller's unit fail with `IntegrityError` on commit: run it again (it then skips those)."""
    known = set(session.exec(select(KnowledgeDocument.doc_id)))
    added = 0
    for fields in entries:
        if fields["doc_id"] in known:
            continue
        row = KnowledgeDocument(
            **{"version": 1, "index_id": fields["doc_id"], "origin": "catalog", "status": PUBLISHED, **fields}
        )
        row.published_at = row.created_at
        session.add(row)
        audit.record(
            "system", "catalog", session=session, doc_id=row.doc_id, version=1, content_hash=row.content_hash
        )
        known.add(row.doc_id)
        added += 1
    session.flush()
    return added


def create_draft(actor: Actor, *, session: Session, **fields) -> KnowledgeDocument:
    """A new draft version. For a new document give `doc_id` (checked) or leave it to `suggest_doc_id`;
    a new version of an existing document gives its `doc_id` and `replaces` (the index id it replaces)."""
    replaces = fields.get("replaces")
    if replaces:
        doc_id = fields["doc_id"]
        version = 1 + max([r.version for r in versions(doc_id, session=session)] or [0])
    else:
        doc_id = check_doc_id(fields["doc_id"])
        if _exists(session, doc_id):
            raise RegistryError("exists", f"a document {doc_id!r} exists already; replace it instead")
        version = 1
    values = {**fields, "doc_id": doc_id, "version": version, "index_id": index_id_for(doc_id, version)}
    values.setdefault("created_by", actor.label)
    row = KnowledgeDocument(status=DRAFT, **values)
    session.add(row)
    session.flush()
    detail = f"draft of {row.file_name!r}" + (f", to replace {replaces}" if replaces else "")
    record_for(actor, "upload", session=session, doc=row, detail=detail)
    return row


def update_draft(row_id: int, actor: Actor, *, session: Session, **fields) -> KnowledgeDocument:
    """Change a draft's metadata (title, city, issuer, date, doc_number, aliases…)."""
    row = _draft(session, row_id)
    changes = []
    for name, value in fields.items():
        if getattr(row, name) != value:
            changes.append(f"{name}: {getattr(row, name)!r} → {value!r}")
            setattr(row, name, value)
    row.updated_at = _now()
    if changes:
        record_for(actor, "edit", session=session, doc=row, detail="; ".join(changes))
    session.flush()
    return row


def publish(
    row_id: int, actor: Actor, *, session: Session
) -> tuple[KnowledgeDocument, KnowledgeDocument | None]:
    """Draft → published; the version it replaces (or any other published version of the same document)
    → replaced. Returns (published, replaced or None)."""
    row = _draft(session, row_id)
    old = _replace_published(session, row)
    detail = f"v{row.version} published" + (f", replacing v{old.version}" if old else "")
    record_for(actor, "replace" if old else "publish", session=session, doc=row, detail=detail)
    session.flush()
    return row, old


def discard(row_id: int, actor: Actor, *, session: Session) -> KnowledgeDocument:
    """Draft → discarded."""
    row = _draft(session, row_id)
    row.status, row.updated_at = DISCARDED, _now()
    record_for(actor, "discard", session=session, doc=row, detail=f"draft v{row.version} discarded")
    session.flush()
    return row


def retire(doc_id: str, actor: Actor, *, session: Session) -> KnowledgeDocument:
    """The published version → retired (kept, no longer answering)."""
    row = session.exec(
        select(KnowledgeDocument).where(KnowledgeDocument.doc_id == doc_id, KnowledgeDocument.status == PUBLISHED)
    ).first()
    if row is None:
        raise RegistryError("bad_state" if _exists(session, doc_id) else "not_found", f"{doc_id} is not published")
    row.status, row.updated_at = RETIRED, _now()
    record_for(actor, "retire", session=session, doc=row, detail=f"v{row.version} retired")
    session.flush()
    return row


def restore(
    doc_id: str, actor: Actor, version: int | None = None, *, session: Session
) -> tuple[KnowledgeDocument, KnowledgeDocument | None]:
    """A retired or replaced version (the newest, or `version`) → published; a version published meanwhile
    → replaced. Returns (restored, replaced or None)."""
    rows = versions(doc_id, session=session)
    if not rows:
        raise RegistryError("not_found", f"no document {doc_id}")
    candidates = [r for r in rows if r.status in KEPT and (version is None or r.version == version)]
    if not candidates:
        raise RegistryError("bad_state", f"{doc_id} has no retired or replaced version to restore")
    row = candidates[-1]
    old = _replace_published(session, row)
    record_for(actor, "restore", session=session, doc=row, detail=f"v{row.version} restored")
    session.flush()
    return row, old


def set_statuses(statuses: dict[int, str], *, session: Session) -> None:
    """Put versions (by row id) back to the given statuses: undoing a change the chunk store refused."""
    for row_id, status in statuses.items():
        session.get(KnowledgeDocument, row_id).status = status
    session.flush()


def _replace_published(session: Session, row: KnowledgeDocument) -> KnowledgeDocument | None:
    """Make `row` the published version; the one published until now (if any) → replaced and returned."""
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
    return old


def _exists(session: Session, doc_id: str) -> bool:
    return (
        session.exec(select(KnowledgeDocument.id).where(KnowledgeDocument.doc_id == doc_id)).first()
        is not None
    )


def _draft(session: Session, row_id: int) -> KnowledgeDocument:
    row = session.get(KnowledgeDocument, row_id)
    if row is None:
        raise RegistryError("not_found", f"no document version #{row_id}")
    if row.status != DRAFT:
        raise RegistryError("bad_state", f"{row.doc_id} v{row.version} is {row.status}, not a draft")
    return row
