"""Institutions and their sessions: look-ups for the details card and the operator's side, plus the
editable data the care features read from `knowledge/` (district centres, fee reductions).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlmodel import Session

from db.core.rows import from_row
from db.core.timeutil import fmt_time, to_local
from db.models import SERVICE_UNITS, CareSession, Institution

DEFAULT_KNOWLEDGE_DIR = Path(__file__).resolve().parents[2] / "knowledge"
MAX_ROW_ID = 2**31 - 1  # INTEGER primary keys (PostgreSQL int4): a larger id cannot exist


def valid_row_id(value: object) -> bool:
    """Whether `value` can be a row id at all (so a forged huge or negative id never reaches SQL)."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ROW_ID


_knowledge_dir: Path | None = None


def configure(knowledge_dir: Path | str | None) -> None:
    """Set the knowledge folder (`Settings.knowledge_dir`, handed down by `bot.settings.configure_layers`)."""
    global _knowledge_dir
    _knowledge_dir = Path(knowledge_dir) if knowledge_dir is not None else None


def knowledge_dir() -> Path:
    """The knowledge folder: the configured one, else the repository's."""
    return _knowledge_dir or DEFAULT_KNOWLEDGE_DIR


def _load_yaml(relative: str) -> Any:
    with (knowledge_dir() / relative).open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@lru_cache(maxsize=4)
def _places_cached(path: str) -> tuple[dict, ...]:
    data = _load_yaml("demo/places.yaml")
    return tuple(data["cities"])


def load_places() -> list[dict]:
    """Cities with their districts/towns (centre, boxes, aliases, places) from `knowledge/demo/places.yaml`."""
    return list(_places_cached(str(knowledge_dir())))


@lru_cache(maxsize=4)
def _annex2_cached(path: str) -> dict:
    return _load_yaml("demo/zhangjiagang_annex2.yaml")


def load_zhangjiagang_annex2() -> dict:
    """The Zhangjiagang annex-2 place table (`knowledge/demo/zhangjiagang_annex2.yaml`)."""
    return _annex2_cached(str(knowledge_dir()))


@dataclass(frozen=True)
class Reduction:
    """A fee reduction from a policy document (see `knowledge/fee_reductions.yaml`)."""

    key: str
    aliases: tuple[str, ...]
    city: str
    amount: float
    unit: str
    applies_to: tuple[str, ...]
    conditions: str
    source_title: str
    source_section: str
    source_quote: str
    source_doc_id: str = ""

    @property
    def source(self) -> str:
        """《title》section — for showing next to a reduced price."""
        return f"《{self.source_title}》{self.source_section}"

    def applies(self, city: str, service: str) -> bool:
        """Whether the reduction lowers the fee of `service` at an institution in `city`."""
        return self.city == city and service in self.applies_to


@lru_cache(maxsize=4)
def _reductions_cached(path: str) -> tuple[Reduction, ...]:
    data = _load_yaml("fee_reductions.yaml") or {}
    out = []
    for item in data.get("reductions", []):
        source = item.get("source", {})
        out.append(
            Reduction(
                key=item["key"],
                aliases=tuple(str(a) for a in item.get("aliases", [])),
                city=item["city"],
                amount=float(item["amount"]),
                unit=item.get("unit", ""),
                applies_to=tuple(item.get("applies_to", [])),
                conditions=item.get("conditions", ""),
                source_title=source.get("title", ""),
                source_section=source.get("section", ""),
                source_quote=source.get("quote", ""),
                source_doc_id=source.get("doc_id", ""),
            )
        )
    return tuple(out)


def load_reductions() -> list[Reduction]:
    """All fee reductions the documents give."""
    return list(_reductions_cached(str(knowledge_dir())))


def find_reduction(key: str) -> Reduction | None:
    """The reduction named `key` (or one of its aliases, case-insensitive), or None."""
    wanted = key.strip().lower()
    for reduction in load_reductions():
        if wanted == reduction.key.lower() or wanted in (a.lower() for a in reduction.aliases):
            return reduction
    return None


def reductions_for_city(city: str) -> list[Reduction]:
    """Reductions that apply in `city` (for offering the "does this apply to you?" button)."""
    return [r for r in load_reductions() if r.city == city]


def clear_caches() -> None:
    """Forget loaded YAML (after staff edit the files, or in tests)."""
    _places_cached.cache_clear()
    _annex2_cached.cache_clear()
    _reductions_cached.cache_clear()


# --- Institutions --------------------------------------------------------------------------------------------


def get_institution(institution_id: int, *, session: Session) -> Institution | None:
    """One institution (for the details card), or None."""
    if not valid_row_id(institution_id):
        return None
    return session.get(Institution, institution_id)


def fee_list(institution: Institution) -> list[tuple[str, float, str]]:
    """[(service, fee, unit)] in the usual service order, for the details card."""
    return [
        (service, institution.fees[service], SERVICE_UNITS[service])
        for service in SERVICE_UNITS
        if service in institution.fees
    ]


def count_institutions(*, session: Session, demo: bool | None = None) -> int:
    """How many institutions there are (only demo ones, only real ones, or all)."""
    query = select(func.count()).select_from(Institution)
    if demo is not None:
        query = query.where(Institution.is_demo == demo)
    return int(session.execute(query).scalar_one())


def institutions_of_operator(operator_user_id: int, *, session: Session) -> list[Institution]:
    """The institutions a user operates (linked through `operator_user_id`)."""
    query = (
        select(Institution).where(Institution.operator_user_id == operator_user_id).order_by(Institution.id)
    )
    return list(session.execute(query).scalars())


def set_operator(institution_id: int, operator_user_id: int | None, *, session: Session) -> bool:
    """Link (or with None unlink) an operator to an institution; False when there is no such institution."""
    if not valid_row_id(institution_id):
        return False
    institution = session.get(Institution, institution_id)
    if institution is None:
        return False
    institution.operator_user_id = operator_user_id
    session.flush()
    return True


# --- Sessions --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionSlot:
    """A temporary-care session as shown to a parent."""

    session_id: int
    institution_id: int
    service: str
    date: date
    start_time: Any
    end_time: Any
    age_min_months: int
    age_max_months: int
    capacity: int
    booked: int
    price: float
    is_demo: bool

    @property
    def free(self) -> int:
        """Places left."""
        return max(0, self.capacity - self.booked)

    def to_dict(self) -> dict:
        """The session in the CLI's JSON shape."""
        return {
            "session_id": self.session_id,
            **schedule_json(self.date, self.start_time, self.end_time),
            "price": json_number(self.price),
            "capacity": self.capacity,
            "free": self.free,
        }


def slot_from_row(row: Any) -> SessionSlot:
    """A SessionSlot from a CareSession or a row with the same columns."""
    return from_row(SessionSlot, row, session_id=row.id)


def schedule_json(day: date, start: Any, end: Any) -> dict:
    """A session's day and hours in the CLI's JSON shape (`date`, `start`, `end`)."""
    return {"date": day.isoformat(), "start": fmt_time(start), "end": fmt_time(end)}


def json_number(value: float) -> int | float:
    """An int when the value is whole (prices print as 120, not 120.0)."""
    return int(value) if float(value).is_integer() else round(float(value), 2)


def get_session(session_id: int, *, session: Session) -> CareSession | None:
    """One session, or None."""
    if not valid_row_id(session_id):
        return None
    return session.get(CareSession, session_id)


def list_sessions(
    institution_id: int,
    *,
    session: Session,
    date_from: date | None = None,
    days: int = 14,
    now: datetime | None = None,
) -> list[SessionSlot]:
    """An institution's sessions from `date_from` (default today, Asia/Shanghai) for `days` days."""
    start = date_from or to_local(now).date()
    query = (
        select(CareSession)
        .where(
            CareSession.institution_id == institution_id,
            CareSession.date >= start,
            CareSession.date < start + timedelta(days=days),
        )
        .order_by(CareSession.date, CareSession.start_time, CareSession.id)
    )
    return [slot_from_row(row) for row in session.execute(query).scalars()]
