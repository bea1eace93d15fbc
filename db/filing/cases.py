"""Operators' filing cases: the 备案 checklist of each institution, kept in the database.

A case belongs to one operator (Telegram user id); an operator may have several (one per institution). The
checklist itself comes from the workflow data (`db.filing.workflow`): an item's status is one of
uploaded / ready / not_applicable, or missing when nothing was recorded. Uploaded files are stored by their
Telegram file id with name, MIME type, size, sha256 and time — the bytes stay on Telegram.

Every function takes the operator id and refuses (CaseNotFound) a case of someone else, so a stale or forged
button can never touch another operator's case. Every function takes the caller's session and never commits
(the caller's unit of work does); the snapshots returned (`CaseView`) are detached and pure
(`db.filing.case_view`), and so are the upload checks (`db.filing.uploads`), re-exported here.

    with session_scope(engine) as session:
        case = start_case(operator_id, session=session)
        case = choose_nature(operator_id, case.id, "for_profit", workflow, session=session)
        problem = check_upload(workflow, material, file_name="执照.pdf", mime_type="application/pdf", file_size=123)
        record_upload(ItemRef(operator_id, case.id, "license"), UploadedFile(...), workflow, session=session)
        mark_item(ItemRef(operator_id, case.id, "food"), NOT_APPLICABLE, workflow, session=session)
    case.progress(workflow)  # Progress(done=2, total=9, ...)
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from db.filing.case_view import (
    MAX_CASES_PER_OPERATOR,
    MAX_CITY,
    MAX_TITLE,
    MISSING,
    NOT_APPLICABLE,
    READY,
    STEPS,
    UPLOADED,
    CaseNotFound,
    CaseView,
    DocumentInfo,
    FilingError,
    ItemRef,
    ItemState,
    Progress,
    UploadedFile,
    UploadOutcome,
)
from db.filing.models import FilingCase, FilingDocument, FilingItem
from db.filing.uploads import UploadCheck, check_content, check_upload, sha256_hex
from db.filing.workflow import Material, Workflow

__all__ = [
    "MAX_CASES_PER_OPERATOR",
    "MAX_CITY",
    "MAX_TITLE",
    "MISSING",
    "NOT_APPLICABLE",
    "READY",
    "STEPS",
    "UPLOADED",
    "CaseNotFound",
    "CaseView",
    "DocumentInfo",
    "FilingError",
    "ItemRef",
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

_UPSERT_INSERTS = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# --- Reading --------------------------------------------------------------------------------------------------


def _doc_info(d: FilingDocument) -> DocumentInfo:
    return DocumentInfo(file_id=d.file_id, file_unique_id=d.file_unique_id, file_name=d.file_name,
                        mime_type=d.mime_type, file_size=d.file_size, sha256=d.sha256, id=d.id, item_id=d.item_id,
                        uploaded_at=_aware(d.uploaded_at))


def _view(session: Session, case: FilingCase) -> CaseView:
    statuses = {
        row.item_id: row.status
        for row in session.execute(
            # statuses may have been written by a statement (`_set_status`): never trust objects loaded before
            select(FilingItem).where(FilingItem.case_id == case.id).execution_options(populate_existing=True)
        ).scalars()
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
        number=session.execute(
            select(func.count()).select_from(FilingCase)
            .where(FilingCase.operator_id == case.operator_id, FilingCase.id <= case.id)
        ).scalar_one(),
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


def list_cases(operator_id: int, *, include_closed: bool = False, session: Session) -> list[CaseView]:
    """The operator's cases, most recently worked on first."""
    stmt = select(FilingCase).where(FilingCase.operator_id == operator_id)
    if not include_closed:
        stmt = stmt.where(FilingCase.status == "open")
    cases = session.execute(stmt.order_by(FilingCase.updated_at.desc(), FilingCase.id.desc())).scalars().all()
    return [_view(session, c) for c in cases]


def current_case(operator_id: int, *, session: Session) -> CaseView | None:
    """The open case the operator worked on last (what /filing resumes), or None."""
    case = session.execute(
        select(FilingCase)
        .where(FilingCase.operator_id == operator_id, FilingCase.status == "open")
        .order_by(FilingCase.updated_at.desc(), FilingCase.id.desc())
        .limit(1)
    ).scalars().first()
    return _view(session, case) if case is not None else None


def get_case(operator_id: int, case_id: int, *, session: Session) -> CaseView:
    """One open case of this operator; CaseNotFound otherwise."""
    return _view(session, _load(session, operator_id, case_id))


# --- Changing -------------------------------------------------------------------------------------------------


def _touch(session: Session, case: FilingCase, **changes) -> CaseView:
    for key, value in changes.items():
        setattr(case, key, value)
    case.updated_at = _utcnow()
    session.add(case)
    session.flush()
    return _view(session, case)


def start_case(operator_id: int, *, title: str = "", city: str = "", session: Session) -> CaseView:
    """A new case at the legal-nature step. An untouched one (no nature chosen yet) is reused, so a double
    tap on "new institution" makes one case."""
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


def choose_nature(operator_id: int, case_id: int, nature_id: str, workflow: Workflow, *,
                  session: Session) -> CaseView:
    """Set the legal nature (from the workflow) and move on to the checklist. Statuses already recorded are
    kept; items that do not apply to the new nature are simply not shown."""
    if workflow.nature(nature_id) is None:
        raise FilingError("unknown_nature", nature_id)
    case = _load(session, operator_id, case_id, for_update=True)
    return _touch(session, case, legal_nature=nature_id, step="checklist")


def set_city(operator_id: int, case_id: int, city: str, *, session: Session) -> CaseView:
    """The institution's city (selects per-city additions; "" for none)."""
    return _touch(session, _load(session, operator_id, case_id), city=city.strip()[:MAX_CITY])


def set_title(operator_id: int, case_id: int, title: str, *, session: Session) -> CaseView:
    """The operator's name for the institution (trimmed to MAX_TITLE); back to the checklist."""
    clean = " ".join(title.split())[:MAX_TITLE]
    if not clean:
        raise FilingError("empty_title")
    case = _load(session, operator_id, case_id)
    return _touch(session, case, title=clean, step="checklist" if case.legal_nature else "nature")


def set_step(operator_id: int, case_id: int, step: str, *, session: Session) -> CaseView:
    """Remember where the operator is (see STEPS); also marks the case as the one worked on last."""
    if step not in STEPS:
        raise FilingError("unknown_step", step)
    case = _load(session, operator_id, case_id)
    step_now = "nature" if step in ("checklist", "plan") and not case.legal_nature else step
    return _touch(session, case, step=step_now)


def _material(case: FilingCase, item_id: str, workflow: Workflow) -> Material:
    if not case.legal_nature:
        raise FilingError("no_nature", f"case {case.id}")
    material = next((m for m in workflow.materials_for(case.legal_nature, case.city) if m.id == item_id), None)
    if material is None:
        raise FilingError("unknown_item", item_id)
    return material


def open_item(item: ItemRef, workflow: Workflow, *, session: Session) -> CaseView:
    """The operator looks at an item: it becomes the one a file sent next is for."""
    case = _load(session, item.operator_id, item.case_id)
    _material(case, item.item_id, workflow)
    return _touch(session, case, current_item=item.item_id, step="checklist")


def _set_status(session: Session, case_id: int, item_id: str, status: str) -> None:
    """Insert or update the item's status in one statement: two taps at once cannot both insert."""
    table = FilingItem.__table__
    dialect = session.get_bind().dialect.name
    if dialect in _UPSERT_INSERTS:
        stmt = _UPSERT_INSERTS[dialect](table).values(case_id=case_id, item_id=item_id, status=status,
                                                      updated_at=_utcnow())
        session.execute(stmt.on_conflict_do_update(index_elements=["case_id", "item_id"],
                                                   set_={"status": status, "updated_at": _utcnow()}))
        return
    row = session.execute(
        select(FilingItem).where(FilingItem.case_id == case_id, FilingItem.item_id == item_id)
    ).scalars().first()
    row = row or FilingItem(case_id=case_id, item_id=item_id, status=status)
    row.status, row.updated_at = status, _utcnow()
    session.add(row)
    session.flush()


def mark_item(item: ItemRef, status: str, workflow: Workflow, *, session: Session) -> CaseView:
    """Mark an item 已准备 (READY) or 不适用 (NOT_APPLICABLE), where the workflow allows it."""
    if status not in (READY, NOT_APPLICABLE):
        raise FilingError("bad_status", status)
    item_id = item.item_id
    case = _load(session, item.operator_id, item.case_id, for_update=True)
    material = _material(case, item_id, workflow)
    allowed = material.can_mark_ready if status == READY else material.can_be_not_applicable
    if not allowed:
        raise FilingError("not_allowed", f"{item_id} cannot be {status}")
    _set_status(session, case.id, item_id, status)
    return _touch(session, case, current_item=item_id)


def clear_item(item: ItemRef, *, session: Session) -> CaseView:
    """Back to missing: forget the status and the files recorded for the item."""
    item_id = item.item_id
    case = _load(session, item.operator_id, item.case_id, for_update=True)
    session.execute(delete(FilingItem).where(FilingItem.case_id == case.id, FilingItem.item_id == item_id))
    session.execute(delete(FilingDocument).where(FilingDocument.case_id == case.id,
                                              FilingDocument.item_id == item_id))
    return _touch(session, case, current_item=item_id)


def record_upload(
    item: ItemRef, upload: UploadedFile, workflow: Workflow, *, session: Session
) -> UploadOutcome:
    """Record an uploaded file for an item (status becomes uploaded). The same file twice is recorded once.

    The caller has checked the file (`check_upload`, `check_content`); this re-checks the name/size rule so
    nothing unchecked is ever stored.
    """
    item_id = item.item_id
    row = _load(session, item.operator_id, item.case_id, for_update=True)
    material = _material(row, item_id, workflow)
    verdict = check_upload(workflow, material, file_name=upload.file_name, mime_type=upload.mime_type,
                           file_size=upload.file_size)
    if not verdict.ok:
        raise FilingError(verdict.problem, upload.file_name)
    existing = session.execute(
        select(FilingDocument).where(FilingDocument.case_id == row.id, FilingDocument.item_id == item_id,
                                     FilingDocument.sha256 == upload.sha256)
    ).scalars().first()
    if existing is not None:
        _set_status(session, row.id, item_id, UPLOADED)
        return UploadOutcome(_touch(session, row, current_item=item_id), False, _doc_info(existing))
    doc = FilingDocument(
        case_id=row.id, item_id=item_id, file_id=upload.file_id[:255],
        file_unique_id=upload.file_unique_id[:128], file_name=(upload.file_name or "")[:255],
        mime_type=(upload.mime_type or "")[:128], file_size=int(upload.file_size or 0), sha256=upload.sha256,
    )
    session.add(doc)
    session.flush()
    _set_status(session, row.id, item_id, UPLOADED)
    return UploadOutcome(_touch(session, row, current_item=item_id), True, _doc_info(doc))


def save_class_plan(operator_id: int, case_id: int, classes: list[dict], *, session: Session) -> CaseView:
    """Keep the last readiness self-check input (parsed) and go back to the checklist."""
    return _touch(session, _load(session, operator_id, case_id), class_plan=list(classes), step="checklist")


def mark_summary_sent(operator_id: int, case_id: int, *, session: Session) -> CaseView:
    """Note when the summary was last sent."""
    return _touch(session, _load(session, operator_id, case_id), summary_sent_at=_utcnow())


def close_case(operator_id: int, case_id: int, *, session: Session) -> None:
    """Archive a case (it no longer appears in /filing); its records stay in the database."""
    _touch(session, _load(session, operator_id, case_id), status="closed")
