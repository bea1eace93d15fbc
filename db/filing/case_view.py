"""What a filing case looks like to its readers: statuses, errors and the detached snapshots (`CaseView`,
`ItemState`, `Progress`, `DocumentInfo`) that `db.filing.cases` returns. Pure: no database here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from db.filing.workflow import Material, Workflow

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

class FilingError(Exception):
    """A refused change; `code` says why (for the bot's message)."""

    code = "error"

    def __init__(self, code: str | None = None, detail: str = ""):
        self.code = code or self.code
        super().__init__(f"{self.code}: {detail}" if detail else self.code)


class CaseNotFound(FilingError):
    """No such case for this operator (deleted, closed, or someone else's)."""

    code = "case_not_found"


@dataclass(frozen=True)
class ItemRef:
    """One checklist item of an operator's case: what `open_item`, `mark_item`, `clear_item` and
    `record_upload` act on (the case must be the operator's)."""

    operator_id: int
    case_id: int
    item_id: str


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
class DocumentInfo(UploadedFile):
    """One uploaded file as stored for a checklist item (metadata only)."""

    id: int
    item_id: str
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
    #: The operator's own count: 1 for their first case, 2 for the second… (what an unnamed case is called;
    #: the database id is internal and never shown).
    number: int = 0

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
class UploadOutcome:
    case: CaseView
    added: bool  # False when the same file (same sha256) was already uploaded for this item
    document: DocumentInfo
