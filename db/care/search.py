"""Nearby search for childcare: by shared location or by a typed district/town name.

How `search_nearby` stays fast as data grows: the SQL query selects only institutions inside the bounding
box of the search circle (`lat BETWEEN .. AND lon BETWEEN ..`, served by the composite index
`ix_institutions_lat_lon`), with the cheap filters (普惠, age, "has a free session on that date") in SQL too;
the exact haversine distance, the price filters and the sort then run on those few candidates only, and the
full rows and sessions are loaded for the requested page alone.

Prices: the budget is compared with the fee of the service asked for (全日托 when none is given; a 临时托 fee
is per half-day session, a 计时托 fee per hour — see `db.care.prices`). When the
parent says a reduction applies (e.g. 困境婴幼儿 in Zhangjiagang, from `knowledge/fee_reductions.yaml`), the
price shown and compared is the reduced one, and the result names the reduction's source document.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date as Date
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import and_, exists, or_, select
from sqlmodel import Session

from db.care.geo import EARTH_RADIUS_KM, bounding_box, valid_coordinates
from db.care.institutions import (
    Reduction,
    SessionSlot,
    find_reduction,
    json_number,
    load_places,
    slot_from_row,
)
from db.core.rows import from_row
from db.core.timeutil import to_local
from db.models import SERVICES, SESSION_SERVICES, CareSession, Institution

DEFAULT_SERVICE_FOR_PRICE = "全日托"
MAX_RADIUS_KM = 100.0
MAX_LIMIT = 50
SESSION_DAYS = 7  # without a date, sessions shown are those of the next 7 days
MAX_SESSIONS_PER_RESULT = 6


class SearchError(ValueError):
    """Bad search input; `code` is "invalid"."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Place(NamedTuple):
    """A district/town (or a whole city, with district "") and its centre."""

    lat: float
    lon: float
    city: str
    district: str


@dataclass
class SearchResult:
    """One institution in a result list, with its distance, prices and bookable sessions."""

    institution_id: int
    name: str
    city: str
    district: str
    address: str
    lat: float
    lon: float
    distance_km: float
    puhui: bool
    is_demo: bool
    form: str
    legal_nature: str
    filing_status: str
    age_min_months: int
    age_max_months: int
    phone: str
    opening_hours: str
    total_places: int
    free_places: int
    fees: dict[str, float]
    services: list[str]
    price_service: str
    base_price: float | None  # the listed fee of `price_service`
    price: float | None  # after the reduction, when one applies
    reduction: Reduction | None = None  # the reduction applied to `price`, if any
    sessions: list[SessionSlot] = field(default_factory=list)

    def to_dict(self, *, with_reduction: bool = False) -> dict:
        """The result in the CLI's JSON shape (DESIGN.md); `with_reduction` adds a "reduction" object."""
        out = {
            "institution_id": self.institution_id,
            "name": self.name,
            "district": self.district,
            "distance_km": round(self.distance_km, 2),
            "puhui": self.puhui,
            "prices": {service: json_number(fee) for service, fee in self.fees.items()},
            "sessions": [slot.to_dict() for slot in self.sessions],
        }
        if with_reduction:
            out["reduction"] = (
                {
                    "key": self.reduction.key,
                    "service": self.price_service,
                    "amount": json_number(self.reduction.amount),
                    "price_before": json_number(self.base_price),
                    "price_after": json_number(self.price),
                    "source": self.reduction.source,
                }
                if self.reduction and self.base_price is not None
                else None
            )
        return out


@dataclass
class SearchPage:
    """A page of results, nearest first, and what was asked."""

    results: list[SearchResult]
    total: int
    limit: int
    offset: int
    centre: tuple[float, float]
    radius_km: float | None  # None for a district search
    service: str | None
    reduction: Reduction | None = None
    place: Place | None = None  # the district/town, for search_by_district

    @property
    def has_more(self) -> bool:
        """Whether a next page exists."""
        return self.offset + len(self.results) < self.total

    def to_dict(self, *, with_reduction: bool = False) -> dict:
        """`{"results": [...]}` exactly as DESIGN.md specifies."""
        return {"results": [r.to_dict(with_reduction=with_reduction) for r in self.results]}


# --- Place names -----------------------------------------------------------------------------------------------

_PUNCT = re.compile(r"[\s'’‘`´\-_.,，。、·()（）]+")
_SUFFIXES = ("街道", "district", "subdistrict", "jiedao", "town", "zhen", "qu", "区", "镇", "市", "县")


@lru_cache(maxsize=1)
def _t2s():
    from opencc import OpenCC

    return OpenCC("t2s")


@lru_cache(maxsize=4096)
def _norm(text: str) -> str:
    """A place name as compared: NFKC, traditional → simplified (OpenCC: parents may type either), lower case,
    no spaces or punctuation."""
    text = _t2s().convert(unicodedata.normalize("NFKC", text)).lower()
    return _PUNCT.sub("", text)


def _strip_suffix(text: str) -> str:
    for suffix in _SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix) + 1:
            return text[: -len(suffix)]
    return text


def _keys(names: list[str]) -> set[str]:
    out: set[str] = set()
    for name in names:
        normed = _norm(str(name))
        if normed:
            out.add(normed)
            out.add(_strip_suffix(normed))
    return out


def find_place(name: str) -> Place | None:
    """The district/town (or city) a parent typed — Chinese (simplified or traditional), pinyin or English.

    "思明", "思明區", "Siming", "siming district", "厦门湖里区", "金港街道" (→ 保税区), "张家港" (the whole city,
    district ""). Returns (lat, lon, city, district) of the centre, or None when the name is not known.
    """
    if not name or len(name) > 64:
        return None
    query = _norm(name)
    if not query:
        return None
    cities = load_places()
    # "厦门市思明区" / "xiamen siming": drop a leading city name, then look in that city only.
    scoped: list[tuple[dict, str]] = []
    for city in cities:
        for prefix in sorted(_keys([city["city"], *city.get("aliases", [])]), key=len, reverse=True):
            if query.startswith(prefix) and len(query) > len(prefix):
                scoped.append((city, query[len(prefix) :]))
                break
    candidates = scoped or [(city, query) for city in cities]
    for city, rest in candidates:
        wanted = {rest, _strip_suffix(rest)}
        for district in city["districts"]:
            if wanted & _keys([district["name"], *district.get("aliases", [])]):
                lat, lon = district["centre"]
                return Place(float(lat), float(lon), city["city"], district["name"])
    for city in cities:
        if {query, _strip_suffix(query)} & _keys([city["city"], *city.get("aliases", [])]):
            lat, lon = city["centre"]
            return Place(float(lat), float(lon), city["city"], "")
    return None


# --- Search ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchFilters:
    """What a parent filters by and which page they see: the keyword arguments `search_nearby` and
    `search_by_district` share (see `search_nearby` for their meaning)."""

    age_months: int | None = None
    max_price: float | None = None
    puhui_only: bool = False
    service: str | None = None
    date: Date | None = None
    reduction_key: str | None = None
    limit: int = 10
    offset: int = 0
    now: datetime | None = None

    def checked_reduction(self) -> Reduction | None:
        """Check the filters (SearchError "invalid" when one is off); the reduction `reduction_key` names."""
        if self.age_months is not None and not (0 <= self.age_months <= 72):
            raise SearchError("invalid", "月龄应在 0–72 之间 (age in months must be 0–72)")
        if self.max_price is not None and not (self.max_price >= 0):
            raise SearchError("invalid", "预算不能为负 (budget must not be negative)")
        if self.service is not None and self.service not in SERVICES:
            raise SearchError(
                "invalid", f"未知服务类型 {self.service!r} (unknown service; use one of {', '.join(SERVICES)})"
            )
        if not (1 <= self.limit <= MAX_LIMIT) or self.offset < 0:
            raise SearchError("invalid", f"分页参数无效 (limit must be 1–{MAX_LIMIT}, offset >= 0)")
        if self.reduction_key:
            reduction = find_reduction(self.reduction_key)
            if reduction is None:
                raise SearchError("invalid", f"未知的减免类型 {self.reduction_key!r} (unknown reduction)")
            return reduction
        return None


def _session_conditions(filters: SearchFilters, now_local: datetime) -> list[Any]:
    """SQL conditions on care_sessions for 'bookable and matching the filters'."""
    day, age_months, service, max_price = filters.date, filters.age_months, filters.service, filters.max_price
    today, now_time = now_local.date(), now_local.time().replace(tzinfo=None)
    conds: list[Any] = [CareSession.booked < CareSession.capacity]
    if day is not None:
        conds.append(CareSession.date == day)
    else:
        conds += [CareSession.date >= today, CareSession.date < today + timedelta(days=SESSION_DAYS)]
    conds.append(or_(CareSession.date > today, CareSession.start_time > now_time))
    if age_months is not None:
        conds += [CareSession.age_min_months <= age_months, CareSession.age_max_months >= age_months]
    if service in SESSION_SERVICES:
        conds.append(CareSession.service == service)
        if service == "临时托" and max_price is not None:
            conds.append(CareSession.price <= max_price)
    return conds


@dataclass(frozen=True)
class _Area:
    """Where a search looks: SQL conditions bounding the candidates, the point distances are measured from,
    and the radius around it (None: all of the conditions' area, a named place: `centre`)."""

    conditions: tuple[Any, ...]
    centre: Place
    radius_km: float | None = None


def _run_search(
    session: Session, area: _Area, filters: SearchFilters, reduction: Reduction | None
) -> SearchPage:
    """Run the filtered query over `area` and return one page, nearest to its centre first (a named place,
    when there is no radius, is reported as the page's `place`)."""
    age_months, max_price, service = filters.age_months, filters.max_price, filters.service
    limit, offset, centre, radius_km = filters.limit, filters.offset, area.centre, area.radius_km
    found = SearchPage(
        results=[], total=0, limit=limit, offset=offset, centre=(centre.lat, centre.lon), radius_km=radius_km,
        service=service, reduction=reduction, place=centre if radius_km is None else None,
    )
    local_now = to_local(filters.now)
    price_service = service or DEFAULT_SERVICE_FOR_PRICE
    conds = list(area.conditions)
    if filters.puhui_only:
        conds.append(Institution.puhui.is_(True))
    if age_months is not None:
        conds += [Institution.age_min_months <= age_months, Institution.age_max_months >= age_months]
    if filters.date is not None:
        session_conds = _session_conditions(filters, local_now)
        conds.append(exists().where(CareSession.institution_id == Institution.id, *session_conds))

    need_fees = service is not None or max_price is not None or reduction is not None
    columns = [Institution.id, Institution.lat, Institution.lon]
    if need_fees:
        columns += [Institution.city, Institution.fees, Institution.services]
    candidates = session.execute(select(*columns).where(and_(*conds))).all()

    hits = _within(candidates, area, filters, reduction)
    total = len(hits)
    page = hits[offset : offset + limit]
    if not page:
        found.total = total
        return found

    ids = [institution_id for _, institution_id in page]
    institutions = {
        inst.id: inst
        for inst in session.execute(select(Institution).where(Institution.id.in_(ids))).scalars()
    }
    sessions_by_inst = _sessions_of(session, ids, filters, local_now)

    results = []
    for distance, institution_id in page:
        inst = institutions[institution_id]
        base, price, applied = _effective_price(inst.fees, inst.city, price_service, reduction)
        results.append(
            from_row(
                SearchResult,
                inst,
                institution_id=inst.id,
                distance_km=distance,
                fees=dict(inst.fees),
                services=list(inst.services),
                price_service=price_service,
                base_price=base,
                price=price,
                reduction=applied,
                sessions=sessions_by_inst[institution_id],
            )
        )
    found.results, found.total = results, total
    return found


def _within(
    candidates: list[Any], area: _Area, filters: SearchFilters, reduction: Reduction | None
) -> list[tuple[float, int]]:
    """(distance in km, institution id) of the candidate rows within the area's radius of its centre whose
    service and price match the filters, nearest first. Rows carry (id, lat, lon[, city, fees, services])."""
    service, max_price, radius_km = filters.service, filters.max_price, area.radius_km
    need_fees = service is not None or max_price is not None or reduction is not None
    price_service = service or DEFAULT_SERVICE_FOR_PRICE
    lat, lon = area.centre.lat, area.centre.lon
    # Exact haversine, inlined for speed: compare the haversine term with the radius's before paying for
    # asin/sqrt (same result as db.geo.haversine_km, which the tests check against).
    rlat0, cos0 = math.radians(lat), math.cos(math.radians(lat))
    a_max = math.sin(radius_km / (2 * EARTH_RADIUS_KM)) ** 2 if radius_km is not None else 2.0
    sin, cos, deg, two_r = math.sin, math.cos, math.pi / 180, 2 * EARTH_RADIUS_KM
    hits: list[tuple[float, int]] = []
    for row in candidates:
        rlat = row[1] * deg
        a = sin((rlat - rlat0) / 2) ** 2 + cos0 * cos(rlat) * sin((row[2] - lon) * deg / 2) ** 2
        if a > a_max:
            continue
        if need_fees:
            if service is not None and service not in row.services:
                continue
            if max_price is not None:
                price = _effective_price(row.fees, row.city, price_service, reduction)[1]
                if price is None or price > max_price:
                    continue
        hits.append((two_r * math.asin(math.sqrt(min(a, 1.0))), row[0]))
    hits.sort()
    return hits


def _sessions_of(session, ids: list[int], filters: SearchFilters, local_now: datetime) -> dict[int, list[SessionSlot]]:
    """Up to MAX_SESSIONS_PER_RESULT bookable sessions matching the filters, per institution id."""
    service = filters.service
    sessions_by_inst: dict[int, list[SessionSlot]] = {i: [] for i in ids}
    if service is None or service in SESSION_SERVICES:
        session_conds = _session_conditions(filters, local_now)
        rows = session.execute(
            select(CareSession)
            .where(CareSession.institution_id.in_(ids), *session_conds)
            .order_by(CareSession.date, CareSession.start_time, CareSession.id)
        ).scalars()
        for row in rows:
            bucket = sessions_by_inst[row.institution_id]
            if len(bucket) < MAX_SESSIONS_PER_RESULT:
                bucket.append(slot_from_row(row))
    return sessions_by_inst


def _effective_price(
    fees: dict, city: str, service: str, reduction: Reduction | None
) -> tuple[float | None, float | None, Reduction | None]:
    """(listed fee, fee after the reduction, the reduction if it applied) for one service."""
    base = fees.get(service)
    if base is None:
        return None, None, None
    base = float(base)
    if reduction is not None and reduction.applies(city, service):
        return base, max(0.0, base - reduction.amount), reduction
    return base, base, None


def search_nearby(
    lat: float, lon: float, *, session: Session, radius_km: float = 5, **filters: Any
) -> SearchPage:
    """Institutions within `radius_km` of (lat, lon), nearest first, one page of them.

    Filters (keyword arguments, the fields of `SearchFilters`): `age_months` (the institution's and the
    sessions' age ranges must include it), `max_price` (compared with the fee of `service`, 全日托 when None,
    after the reduction), `puhui_only`, `service` (the institution offers it; for 临时托/计时托 the sessions
    shown are of that type), `date` (only institutions with a bookable session that day, and those sessions),
    `reduction_key` (e.g. "困境婴幼儿"); the page: `limit` (default 10), `offset`; `now` (default now).
    Each result lists up to 6 bookable sessions (free places, not started; on `date`, or in the next 7 days).
    Raises SearchError("invalid", ...) on bad input (TypeError on an unknown keyword).
    """
    wanted = SearchFilters(**filters)
    if not valid_coordinates(lat, lon):
        raise SearchError("invalid", "坐标无效 (latitude must be -90..90 and longitude -180..180)")
    if not (0 < radius_km <= MAX_RADIUS_KM):
        raise SearchError(
            "invalid", f"半径应在 0–{MAX_RADIUS_KM:g} 公里之间 (radius must be 0–{MAX_RADIUS_KM:g} km)"
        )
    reduction = wanted.checked_reduction()
    box = bounding_box(lat, lon, radius_km)
    bounds = (
        Institution.lat.between(box.min_lat, box.max_lat),
        Institution.lon.between(box.min_lon, box.max_lon),
    )
    return _run_search(session, _Area(bounds, Place(lat, lon, "", ""), radius_km), wanted, reduction)


def search_by_district(name: str, *, session: Session, **filters: Any) -> SearchPage | None:
    """Institutions in the district/town (or city) a parent typed, nearest to its centre first.

    Names as in `find_place` (思明, 湖里區, Huli, 金港街道, 杨舍镇, 张家港...). Returns None when the name is
    not a known place (the handler then asks the parent to share a location instead). Same filters as
    `search_nearby` (the fields of `SearchFilters`); `distance_km` is measured from the district's centre.
    """
    wanted = SearchFilters(**filters)
    reduction = wanted.checked_reduction()
    place = find_place(name)
    if place is None:
        return None
    bounds = [Institution.city == place.city]
    if place.district:
        bounds.append(Institution.district == place.district)
    return _run_search(session, _Area(tuple(bounds), place), wanted, reduction)


__all__ = [
    "Place",
    "SearchError",
    "SearchFilters",
    "SearchPage",
    "SearchResult",
    "find_place",
    "search_by_district",
    "search_nearby",
]
