"""Every table of the database, in one place: alembic's autogenerate reads this metadata,
and code that wants several domains' models imports them from here. Each table lives beside the operations of
its domain (db/accounts, db/care, db/filing, db/knowledge, db/core)."""

from __future__ import annotations

from db.accounts.models import User, utcnow
from db.care.models import (
    BOOKING_CANCELLED,
    BOOKING_CONFIRMED,
    FILING_STATUSES,
    FORMS,
    LEGAL_NATURES,
    MAX_AGE_MONTHS,
    MAX_PLACES,
    PRINTABLE,
    Booking,
    CareSession,
    Institution,
    InstitutionFields,
)
from db.care.prices import SERVICE_UNITS, SERVICES, SESSION_SERVICES
from db.care.waitlist_models import WaitlistEntry, WaitlistOffer
from db.core.audit import AuditEntry
from db.core.conversation import ConversationState
from db.core.outbox import NoticeClaim
from db.filing.models import FilingCase, FilingDocument, FilingItem
from db.knowledge.alerts import AlertCursor, AlertDelivery, AlertMessage, PolicyFollow
from db.knowledge.changes import KnowledgeChange
from db.knowledge.models import DOCUMENT_STATUSES, KnowledgeDocument

__all__ = [
    "AlertCursor",
    "AlertDelivery",
    "AlertMessage",
    "AuditEntry",
    "BOOKING_CANCELLED",
    "BOOKING_CONFIRMED",
    "Booking",
    "CareSession",
    "ConversationState",
    "DOCUMENT_STATUSES",
    "FILING_STATUSES",
    "FORMS",
    "FilingCase",
    "FilingDocument",
    "FilingItem",
    "Institution",
    "InstitutionFields",
    "KnowledgeChange",
    "KnowledgeDocument",
    "LEGAL_NATURES",
    "MAX_AGE_MONTHS",
    "MAX_PLACES",
    "NoticeClaim",
    "PRINTABLE",
    "PolicyFollow",
    "SERVICES",
    "SERVICE_UNITS",
    "SESSION_SERVICES",
    "User",
    "WaitlistEntry",
    "WaitlistOffer",
    "utcnow",
]
