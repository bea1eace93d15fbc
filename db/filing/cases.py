"""Operators' filing cases: the 备案 checklist of each institution, kept in the database.

A case belongs to one operator (Telegram user id); an operator may have several (one per institution). The
checklist itself comes from the workflow data (`db.filing.workflow`): an item's status is one of
uploaded / ready / not_applicable, or missing when nothing was recorded. Uploaded files are stored by their
Telegram file id with name, MIME type, size, sha256 and time — the bytes stay on Telegram.

Every function takes the operator id and refuses (CaseNotFound) a case of someone else, so a stale or forged
button can never touch another operator's case.

    case = start_case(engine, operator_id)
    case = choose_nature(engine, operator_id, case.id, "for_profit", workflow)
    problem = check_upload(workflow, material, file_name="执照.pdf", mime_type="application/pdf", file_size=123)
    record_upload(engine, operator_id, case.id, "license", UploadedFile(...), workflow)
    mark_item(engine, operator_id, case.id, "food", NOT_APPLICABLE, workflow)
    case.progress(workflow)  # Progress(done=2, total=9, ...)
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from db.core.engine import session_scope
from db.filing.models import FilingCase, FilingDocument, FilingItem
from db.filing.workflow import FILE_TYPES, FileType, Material, Workflow

__all__ = [
    "MISSING",
    "NOT_APPLICABLE",
    "READY",
    "STEPS",
    "UPLOADED",
    "CaseNotFound",
    "CaseView",
    "DocumentInfo",
    "FilingError",
    "ItemState",
    "Progress",
    "UploadCheck",
    "UploadOutcome",
    "UploadedFile",
    "check_content",
    "check_upload",
    "choose_nature",
    "clear_item",
    "close_case",
    "current_case",
    "get_case",
    "list_cases",
    "mark_item",
    "mark_summary_sent",
    "open_item",
    "record_upload",
    "save_class_plan",
    "set_city",
    "set_step",
    "set_title",
    "sha256_hex",
    "start_case",
]

UPLOADED = "uploaded"
READY = "ready"
NOT_APPLICABLE = "not_applicable"
MISSING = "missing"
#: Where an operator is in a case: choosing the legal nature, working on the checklist, typing the class plan
#: for the readiness self-check, or typing the institution's name.
STEPS = ("nature", "checklist", "plan", "title")
MAX_TITLE = 60
MAX_CITY = 32
MAX_CASES_PER_OPERATOR = 20

T = TypeVar("T")


class FilingError(Exception):
    """A refused change; `code` says why (for the bot's message)."""

    code = "error"

    def __init__(self, code: str | None = None, detail: str = ""):
        self.code = code or self.code
        super().__init__(f"{self.code}: {detail}" if detail else self.code)


class CaseNotFound(FilingError):
    """No such case for this operator (deleted, closed, or someone else's)."""

    code = "case_not_found"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class DocumentInfo:
    """One uploaded file (metadata only)."""

    id: int
    item_id: str
    file_id: str
    file_unique_id: str
    file_name: str
    mime_type: str
    file_size: int
    sha256: str
    uploaded_at: datetime


@dataclass(frozen=True)
class ItemState:
    """A checklist item with its status and files."""

    material: Material
    status: str  # uploaded | ready | not_applicable | missing
    documents: tuple[DocumentInfo, ...] = ()

    @property
    def done(self) -> bool:
        return self.status != MISSING


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    uploaded: int
    ready: int
    not_applicable: int
    missing: tuple[str, ...]  # item ids, in checklist order

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.done == self.total


@dataclass(frozen=True)
class CaseView:
    """A case as read from the database (a detached snapshot)."""

    id: int
    operator_id: int
    title: str
    city: str
    legal_nature: str
    step: str
    status: str
    current_item: str | None
    class_plan: list[dict]
    created_at: datetime
    updated_at: datetime
    summary_sent_at: datetime | None
    statuses: dict[str, str] = field(default_factory=dict)
    documents: dict[str, tuple[DocumentInfo, ...]] = field(default_factory=dict)

    def items(self, workflow: Workflow) -> list[ItemState]:
        """The checklist for this case's legal nature and city, with statuses (empty before a nature is chosen)."""
        if not self.legal_nature:
            return []
        return [
            ItemState(m, self.statuses.get(m.id, MISSING), self.documents.get(m.id, ()))
            for m in workflow.materials_for(self.legal_nature, self.city)
        ]

    def item(self, workflow: Workflow, item_id: str) -> ItemState | None:
        return next((i for i in self.items(workflow) if i.material.id == item_id), None)

    def progress(self, workflow: Workflow) -> Progress:
        items = self.items(workflow)
        count = {s: sum(1 for i in items if i.status == s) for s in (UPLOADED, READY, NOT_APPLICABLE)}
        return Progress(
            done=sum(1 for i in items if i.done),
            total=len(items),
            uploaded=count[UPLOADED],
            ready=count[READY],
            not_applicable=count[NOT_APPLICABLE],
            missing=tuple(i.material.id for i in items if not i.done),
        )

    def next_missing(self, workflow: Workflow, after: str | None = None) -> str | None:
        """The first missing item after `after` (wrapping around), or None when all are done."""
        items = self.items(workflow)
        ids = [i.material.id for i in items]
        start = ids.index(after) + 1 if after in ids else 0
        for i in items[start:] + items[:start]:
            if not i.done:
                return i.material.id
        return None


@dataclass(frozen=True)
class UploadedFile:
    """What the bot learnt about an uploaded file (the bytes themselves are not kept)."""

    file_id: str
    file_unique_id: str
    file_name: str
    mime_type: str
    file_size: int
    sha256: str


@dataclass(frozen=True)
class UploadCheck:
    """The verdict on an upload before it is downloaded: `problem` is None, wrong_type, too_large or empty."""

    problem: str | None
    file_type: FileType | None
    accepted: tuple[FileType, ...]
    max_bytes: int

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class UploadOutcome:
    case: CaseView
    added: bool  # False when the same file (same sha256) was already uploaded for this item
    document: DocumentInfo


# --- Upload checks (pure) -------------------------------------------------------------------------------------


def _type_of(file_name: str, mime_type: str) -> FileType | None:
    """The file type its name says (or, without an extension, its MIME type)."""
    name = (file_name or "").lower().strip()
    mime = (mime_type or "").lower().split(";")[0].strip()
    if "." in name:
        ext = "." + name.rsplit(".", 1)[1]
        by_ext = next((ft for ft in FILE_TYPES.values() if ext in ft.extensions), None)
        if by_ext is None:
            return None
        # a name and a MIME type that disagree about a known type are not trusted
        by_mime = next((ft for ft in FILE_TYPES.values() if mime in ft.mime_types), None)
        if by_mime is not None and by_mime.key != by_ext.key:
            return None
        return by_ext
    return next((ft for ft in FILE_TYPES.values() if mime in ft.mime_types), None)


def check_upload(workflow: Workflow, material: Material, *, file_name: str, mime_type: str,
                 file_size: int | None) -> UploadCheck:
    """Is this file acceptable for this item, judging by its name, MIME type and size?"""
    accepted = workflow.accepted_types(material)
    max_bytes = workflow.max_bytes(material)
    file_type = _type_of(file_name, mime_type)
    if file_type is None or file_type not in accepted:
        return UploadCheck("wrong_type", file_type, accepted, max_bytes)
    if file_size is not None and file_size > max_bytes:
        return UploadCheck("too_large", file_type, accepted, max_bytes)
    if file_size == 0:
        return UploadCheck("empty", file_type, accepted, max_bytes)
    return UploadCheck(None, file_type, accepted, max_bytes)


def check_content(file_type: FileType, data: bytes) -> bool:
    """Do the bytes really start like this type (a renamed .exe is not a PDF)?"""
    return bool(data) and any(data.startswith(magic) for magic in file_type.magic)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- Reading --------------------------------------------------------------------------------------------------


def _doc_info(d: FilingDocument) -> DocumentInfo:
    return DocumentInfo(d.id, d.item_id, d.file_id, d.file_unique_id, d.file_name, d.mime_type, d.file_size,
                        d.sha256, _aware(d.uploaded_at))


def _view(session: Session, case: FilingCase) -> CaseView:
    statuses = {
        row.item_id: row.status
        for row in session.execute(select(FilingItem).where(FilingItem.case_id == case.id)).scalars()
    }
    documents: dict[str, list[DocumentInfo]] = {}
    rows = session.execute(
        select(FilingDocument).where(FilingDocument.case_id == case.id).order_by(FilingDocument.id)
    ).scalars()
    for d in rows:
        documents.setdefault(d.item_id, []).append(_doc_info(d))
    return CaseView(
        id=case.id, operator_id=case.operator_id, title=case.title, city=case.city,
        legal_nature=case.legal_nature, step=case.step, status=case.status, current_item=case.current_item,
        class_plan=list(case.class_plan or []), created_at=_aware(case.created_at),
        updated_at=_aware(case.updated_at), summary_sent_at=_aware(case.summary_sent_at),
        statuses=statuses, documents={k: tuple(v) for k, v in documents.items()},
    )


def _load(session: Session, operator_id: int, case_id: int, *, for_update: bool = False) -> FilingCase:
    stmt = select(FilingCase).where(FilingCase.id == case_id, FilingCase.operator_id == operator_id,
                                    FilingCase.status == "open")
    if for_update and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    case = session.execute(stmt).scalars().first()
    if case is None:
        raise CaseNotFound(detail=f"case {case_id} of operator {operator_id}")
    return case


def list_cases(engine: Engine, operator_id: int, *, include_closed: bool = False) -> list[CaseView]:
    """The operator's cases, most recently worked on first."""
    with session_scope(engine) as session:
        stmt = select(FilingCase).where(FilingCase.operator_id == operator_id)
        if not include_closed:
            stmt = stmt.where(FilingCase.status == "open")
        cases = session.execute(stmt.order_by(FilingCase.updated_at.desc(), FilingCase.id.desc())).scalars().all()
        return [_view(session, c) for c in cases]


def current_case(engine: Engine, operator_id: int) -> CaseView | None:
    """The open case the operator worked on last (what /filing resumes), or None."""
    with session_scope(engine) as session:
        case = session.execute(
            select(FilingCase)
            .where(FilingCase.operator_id == operator_id, FilingCase.status == "open")
            .order_by(FilingCase.updated_at.desc(), FilingCase.id.desc())
            .limit(1)
        ).scalars().first()
        return _view(session, case) if case is not None else None


def get_case(engine: Engine, operator_id: int, case_id: int) -> CaseView:
    """One open case of this operator; CaseNotFound otherwise."""
    with session_scope(engine) as session:
        return _view(session, _load(session, operator_id, case_id))


# --- Changing -------------------------------------------------------------------------------------------------


def _write(engine: Engine, fn: Callable[[Session], T]) -> T:
    """Run `fn` in a transaction, once more if a concurrent double tap hit a unique constraint."""
    for attempt in range(2):
        try:
            with session_scope(engine) as session:
                return fn(session)
        except IntegrityError:
            if attempt == 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _touch(session: Session, case: FilingCase, **changes) -> CaseView:
    for key, value in changes.items():
        setattr(case, key, value)
    case.updated_at = _utcnow()
    session.add(case)
    session.flush()
    return _view(session, case)


def start_case(engine: Engine, operator_id: int, *, title: str = "", city: str = "") -> CaseView:
    """A new case at the legal-nature step. An untouched one (no nature chosen yet) is reused, so a double
    tap on "new institution" makes one case."""

    def run(session: Session) -> CaseView:
        blank = session.execute(
            select(FilingCase).where(FilingCase.operator_id == operator_id, FilingCase.status == "open",
                                     FilingCase.legal_nature == "")
            .order_by(FilingCase.id.desc()).limit(1)
        ).scalars().first()
        if blank is not None:
            return _touch(session, blank, title=title[:MAX_TITLE] or blank.title, city=city[:MAX_CITY] or blank.city)
        count = len(session.execute(select(FilingCase.id).where(FilingCase.operator_id == operator_id,
                                                             FilingCase.status == "open")).all())
        if count >= MAX_CASES_PER_OPERATOR:
            raise FilingError("too_many_cases", f"{count} open cases")
        case = FilingCase(operator_id=operator_id, title=title.strip()[:MAX_TITLE], city=city.strip()[:MAX_CITY],
                          step="nature", class_plan=[])
        session.add(case)
        session.flush()
        return _view(session, case)

    return _write(engine, run)


def choose_nature(engine: Engine, operator_id: int, case_id: int, nature_id: str, workflow: Workflow) -> CaseView:
    """Set the legal nature (from the workflow) and move on to the checklist. Statuses already recorded are
    kept; items that do not apply to the new nature are simply not shown."""
    if workflow.nature(nature_id) is None:
        raise FilingError("unknown_nature", nature_id)

    def run(session: Session) -> CaseView:
        case = _load(session, operator_id, case_id, for_update=True)
        return _touch(session, case, legal_nature=nature_id, step="checklist")

    return _write(engine, run)


def set_city(engine: Engine, operator_id: int, case_id: int, city: str) -> CaseView:
    """The institution's city (selects per-city additions; "" for none)."""

    def run(session: Session) -> CaseView:
        return _touch(session, _load(session, operator_id, case_id), city=city.strip()[:MAX_CITY])

    return _write(engine, run)


def set_title(engine: Engine, operator_id: int, case_id: int, title: str) -> CaseView:
    """The operator's name for the institution (trimmed to MAX_TITLE); back to the checklist."""
    clean = " ".join(title.split())[:MAX_TITLE]
    if not clean:
        raise FilingError("empty_title")

    def run(session: Session) -> CaseView:
        case = _load(session, operator_id, case_id)
        return _touch(session, case, title=clean, step="checklist" if case.legal_nature else "nature")

    return _write(engine, run)


def set_step(engine: Engine, operator_id: int, case_id: int, step: str) -> CaseView:
    """Remember where the operator is (see STEPS); also marks the case as the one worked on last."""
    if step not in STEPS:
        raise FilingError("unknown_step", step)

    def run(session: Session) -> CaseView:
        case = _load(session, operator_id, case_id)
        step_now = "nature" if step in ("checklist", "plan") and not case.legal_nature else step
        return _touch(session, case, step=step_now)

    return _write(engine, run)


def _material(case: FilingCase, item_id: str, workflow: Workflow) -> Material:
    if not case.legal_nature:
        raise FilingError("no_nature", f"case {case.id}")
    material = next((m for m in workflow.materials_for(case.legal_nature, case.city) if m.id == item_id), None)
    if material is None:
        raise FilingError("unknown_item", item_id)
    return material


def open_item(engine: Engine, operator_id: int, case_id: int, item_id: str, workflow: Workflow) -> CaseView:
    """The operator looks at an item: it becomes the one a file sent next is for."""

    def run(session: Session) -> CaseView:
        case = _load(session, operator_id, case_id)
        _material(case, item_id, workflow)
        return _touch(session, case, current_item=item_id, step="checklist")

    return _write(engine, run)


def _set_status(session: Session, case_id: int, item_id: str, status: str) -> None:
    row = session.execute(
        select(FilingItem).where(FilingItem.case_id == case_id, FilingItem.item_id == item_id)
    ).scalars().first()
    if row is None:
        row = FilingItem(case_id=case_id, item_id=item_id, status=status)
    else:
        row.status = status
        row.updated_at = _utcnow()
    session.add(row)
    session.flush()


def mark_item(engine: Engine, operator_id: int, case_id: int, item_id: str, status: str,
              workflow: Workflow) -> CaseView:
    """Mark an item 已准备 (READY) or 不适用 (NOT_APPLICABLE), where the workflow allows it."""
    if status not in (READY, NOT_APPLICABLE):
        raise FilingError("bad_status", status)

    def run(session: Session) -> CaseView:
        case = _load(session, operator_id, case_id, for_update=True)
        material = _material(case, item_id, workflow)
        allowed = material.can_mark_ready if status == READY else material.can_be_not_applicable
        if not allowed:
            raise FilingError("not_allowed", f"{item_id} cannot be {status}")
        _set_status(session, case.id, item_id, status)
        return _touch(session, case, current_item=item_id)

    return _write(engine, run)


def clear_item(engine: Engine, operator_id: int, case_id: int, item_id: str) -> CaseView:
    """Back to missing: forget the status and the files recorded for the item."""

    def run(session: Session) -> CaseView:
        case = _load(session, operator_id, case_id, for_update=True)
        session.execute(delete(FilingItem).where(FilingItem.case_id == case.id, FilingItem.item_id == item_id))
        session.execute(delete(FilingDocument).where(FilingDocument.case_id == case.id,
                                                  FilingDocument.item_id == item_id))
        return _touch(session, case, current_item=item_id)

    return _write(engine, run)


def record_upload(engine: Engine, operator_id: int, case_id: int, item_id: str, upload: UploadedFile,
                  workflow: Workflow) -> UploadOutcome:
    """Record an uploaded file for an item (status becomes uploaded). The same file twice is recorded once.

    The caller has checked the file (`check_upload`, `check_content`); this re-checks the name/size rule so
    nothing unchecked is ever stored.
    """

    def run(session: Session) -> UploadOutcome:
        case = _load(session, operator_id, case_id, for_update=True)
        material = _material(case, item_id, workflow)
        verdict = check_upload(workflow, material, file_name=upload.file_name, mime_type=upload.mime_type,
                               file_size=upload.file_size)
        if not verdict.ok:
            raise FilingError(verdict.problem, upload.file_name)
        existing = session.execute(
            select(FilingDocument).where(FilingDocument.case_id == case.id, FilingDocument.item_id == item_id,
                                         FilingDocument.sha256 == upload.sha256)
        ).scalars().first()
        if existing is not None:
            _set_status(session, case.id, item_id, UPLOADED)
            return UploadOutcome(_touch(session, case, current_item=item_id), False, _doc_info(existing))
        doc = FilingDocument(
            case_id=case.id, item_id=item_id, file_id=upload.file_id[:255],
            file_unique_id=upload.file_unique_id[:128], file_name=(upload.file_name or "")[:255],
            mime_type=(upload.mime_type or "")[:128], file_size=int(upload.file_size or 0), sha256=upload.sha256,
        )
        session.add(doc)
        session.flush()
        _set_status(session, case.id, item_id, UPLOADED)
        return UploadOutcome(_touch(session, case, current_item=item_id), True, _doc_info(doc))

    return _write(engine, run)


def save_class_plan(engine: Engine, operator_id: int, case_id: int, classes: list[dict]) -> CaseView:
    """Keep the last readiness self-check input (parsed) and go back to the checklist."""

    def run(session: Session) -> CaseView:
        case = _load(session, operator_id, case_id)
        return _touch(session, case, class_plan=list(classes), step="checklist")

    return _write(engine, run)


def mark_summary_sent(engine: Engine, operator_id: int, case_id: int) -> CaseView:
    def run(session: Session) -> CaseView:
        return _touch(session, _load(session, operator_id, case_id), summary_sent_at=_utcnow())

    return _write(engine, run)


def close_case(engine: Engine, operator_id: int, case_id: int) -> None:
    """Archive a case (it no longer appears in /filing); its records stay in the database."""

    def run(session: Session) -> None:
        _touch(session, _load(session, operator_id, case_id), status="closed")

    _write(engine, run)
