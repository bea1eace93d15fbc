"""Deterministic demo data: institutions in Xiamen and Zhangjiagang, and temporary-care sessions.

No open dataset of real 托育 institutions exists, so `python -m bot institutions demo` generates one:

- Xiamen: 思明, 湖里, 集美, 海沧, 同安, 翔安; Zhangjiagang: the towns/districts of annex 2 of its work plan,
  each with exactly the annex's 辖区总托位数 (so place totals are proportional to that table, factor 1).
  Geography (centres, land boxes, road names) comes from `knowledge/demo/places.yaml`.
- Prices around the documents' figures: Zhangjiagang's place-weighted full-day average is close to 1787 元/月,
  普惠 is cheaper than non-普惠; about 85% of places are 普惠 (the annex's target).
- 临时托/计时托 sessions for the next `days` days, only on the days the institution's opening hours name
  (周一至周五 → no weekend sessions); full-day 临时托 sessions cost `db.care_prices.full_day_fee` of the fee.
- Every record has `is_demo=True`, an `external_id` starting with "demo:" and "（演示）" in its name.

Idempotent: institutions are upserted by `external_id` (same seed → same institutions), sessions are added
only for (institution, date) pairs that have none yet, so running it again (or daily) never duplicates and
keeps existing bookings. Demo institutions the seed no longer generates are deleted with their sessions.

`generate_bulk(n, session=session)` inserts n synthetic institutions spread around Chinese cities for benchmarks.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time

from sqlalchemy import delete, insert, select, update
from sqlmodel import Session

from db.care.institutions import load_places, load_zhangjiagang_annex2
from db.care.prices import full_day_fee, open_weekdays, session_length
from db.core.timeutil import date_range, local_today, utcnow
from db.models import CareSession, Institution

DEMO_SEED = 20240927
DEMO_PREFIX = "demo:"
DEMO_MARK = "（演示）"
PUHUI_SHARE = 0.85

BRANDS = [
    "小橡果", "星星树", "向日葵", "禾苗", "小海豚", "爱邻", "七彩虹", "贝贝乐", "蒲公英", "暖阳", "小蜗牛", "萌芽",
    "童心", "小鹿", "彩虹桥", "满天星", "小太阳", "悦成长", "嘉禾", "知更鸟", "小灯塔", "葡萄藤", "森林屋", "海贝",
]  # fmt: skip
EMPLOYERS = ["市第一医院", "软件园", "高新区管委会", "市妇幼保健院", "产业园", "商务中心", "港务集团"]
FORM_WEIGHTS = [
    ("独立托育机构", 30),
    ("社区嵌入式", 30),
    ("幼儿园托班", 25),
    ("用人单位办托", 8),
    ("家庭托育点", 7),
]
FORM_SIZES = {
    "独立托育机构": (50, 150),
    "社区嵌入式": (25, 80),
    "幼儿园托班": (20, 60),
    "用人单位办托": (30, 80),
    "家庭托育点": (5, 5),
    "托育综合服务中心": (100, 160),
}
TEMP_TEMPLATES = [(time(8, 30), time(11, 30)), (time(14, 0), time(17, 0)), (time(8, 30), time(17, 0))]
HOURLY_TEMPLATES = [(time(9, 0), time(11, 0)), (time(15, 0), time(17, 0)), (time(18, 0), time(20, 0))]


@dataclass
class DemoReport:
    """What `generate_demo` did."""

    institutions_created: int = 0
    institutions_updated: int = 0
    institutions_deleted: int = 0
    sessions_created: int = 0
    institutions_total: int = 0
    places_total: int = 0

    def to_dict(self) -> dict:
        """JSON-friendly summary."""
        return dict(self.__dict__)


def _weighted(rng: random.Random, pairs: list[tuple[str, int]]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs], k=1)[0]


def _round10(value: float) -> int:
    return int(round(value / 10.0)) * 10


def _district_places(city: dict) -> dict[str, int]:
    """Places per district: annex 2 for Zhangjiagang (matched by `annex2`), else the YAML `places`."""
    annex = load_zhangjiagang_annex2()["places"] if city["key"] == "zhangjiagang" else {}
    out = {}
    for district in city["districts"]:
        if "annex2" in district:
            out[district["name"]] = int(annex[district["annex2"]])
        else:
            out[district["name"]] = int(district["places"])
    return out


def _point(rng: random.Random, boxes: list[list[float]]) -> tuple[float, float]:
    weights = [(b[1] - b[0]) * (b[3] - b[2]) for b in boxes]
    box = rng.choices(boxes, weights=weights, k=1)[0]
    return round(rng.uniform(box[0], box[1]), 6), round(rng.uniform(box[2], box[3]), 6)


def _plan_district(city: dict, district: dict, places: int, seed: int, with_centre: bool) -> list[dict]:
    """The institutions of one district (deterministic for the seed), without puhui/prices yet."""
    rng = random.Random(f"{seed}:{city['key']}:{district['key']}")
    plans: list[dict] = []
    remaining = places
    if with_centre:
        size = min(remaining, rng.randint(*FORM_SIZES["托育综合服务中心"]))
        plans.append({"form": "托育综合服务中心", "places": size})
        remaining -= size
    while remaining > 0:
        form = _weighted(rng, FORM_WEIGHTS)
        low, high = FORM_SIZES[form]
        size = min(remaining, rng.randint(low, high))
        if 0 < remaining - size < 5:  # never leave a sliver: the last institution absorbs it
            size = remaining
        plans.append({"form": form, "places": size})
        remaining -= size
    return plans


def _mark_puhui(rng: random.Random, plans: list[dict]) -> None:
    """Choose 普惠 institutions so that about 85% of the district's places are 普惠 (never less)."""
    total = sum(p["places"] for p in plans)
    for p in plans:
        p["puhui"] = True
    order = list(range(len(plans)))
    rng.shuffle(order)
    private = 0
    for index in order:
        plan = plans[index]
        if plan["form"] in ("托育综合服务中心", "幼儿园托班"):
            continue  # public centres and kindergarten classes are 普惠
        if private + plan["places"] <= total * (1 - PUHUI_SHARE):
            plan["puhui"] = False
            private += plan["places"]


def _institution_rows(seed: int) -> list[dict]:
    """Every demo institution as a column dict (deterministic for the seed, independent of the date)."""
    rows: list[dict] = []
    for city in load_places():
        per_district = _district_places(city)
        prices = city["prices"]
        used_names: set[str] = set()  # names are unique within a city
        for district in city["districts"]:
            # The city's 托育综合服务中心 sits in the district marked `service_centre` in places.yaml.
            centre = bool(district.get("service_centre"))
            plans = _plan_district(city, district, per_district[district["name"]], seed, with_centre=centre)
            rng = random.Random(f"{seed}:{city['key']}:{district['key']}:details")
            _mark_puhui(rng, plans)
            short = district["name"].rstrip("区镇") if len(district["name"]) <= 4 else district["name"][:3]
            for number, plan in enumerate(plans, start=1):
                place = _DistrictRows(rng, city, district, short, prices, used_names)
                rows.append(_institution_row(place, number, plan))
    return rows


@dataclass(frozen=True)
class _DistrictRows:
    """What every institution row of one district draws on: its random stream, city, district, short name,
    the city's prices and the names used in the city so far."""

    rng: random.Random
    city: dict
    district: dict
    short: str
    prices: dict
    used_names: set[str]


def _institution_row(place: _DistrictRows, number: int, plan: dict) -> dict:
    rng, city, district, short = place.rng, place.city, place.district, place.short
    prices, used_names = place.prices, place.used_names
    form, puhui = plan["form"], plan["puhui"]
    brand = rng.choice(BRANDS)
    road = rng.choice(district.get("roads") or [f"{short}幸福路"])
    area = road[:2] if road.startswith(short) else f"{short}{road[:2]}"
    name = {
        "独立托育机构": f"{brand}托育中心({area}店)",
        "社区嵌入式": f"{area}社区{brand}托育点",
        "幼儿园托班": f"{short}{brand}幼儿园托班",
        "用人单位办托": f"{short}{rng.choice(EMPLOYERS)}{brand}职工托育室",
        "家庭托育点": f"{brand}家庭托育点({road})",
        "托育综合服务中心": f"{city['city']}托育综合服务中心",
    }[form]
    while name in used_names:
        name = f"{name[:-1]}{number})" if name.endswith(")") else f"{name}{number}"
    used_names.add(name)

    if form == "幼儿园托班":
        age_min = 24
    elif form == "家庭托育点":
        age_min = rng.choice([6, 12])
    else:
        age_min = rng.choices([6, 12, 18], weights=[3, 5, 2], k=1)[0]
    age_max = 36
    classes = []
    if age_min < 12:
        classes.append("乳儿班")
    if age_min < 24:
        classes.append("托小班")
    classes.append("托大班")
    if form == "家庭托育点":
        classes = ["混合编班"]

    if puhui:
        nature = "事业单位" if form in ("托育综合服务中心", "幼儿园托班") else _weighted(
            rng, [("事业单位", 3), ("社会服务机构", 3), ("营利性", 4)]
        )
        full = rng.gauss(prices["puhui_full_day_mean"], 130)
        full = min(max(full, prices["puhui_full_day_mean"] - 350), prices["puhui_full_day_mean"] + 350)
    else:
        nature = _weighted(rng, [("营利性", 9), ("社会服务机构", 1)])
        full = rng.gauss(prices["private_full_day_mean"], 300)
        full = min(max(full, prices["private_full_day_mean"] - 700), prices["private_full_day_mean"] + 900)
    full = _round10(full)
    services = ["全日托"]
    fees: dict[str, int] = {"全日托": full}
    if form != "家庭托育点" and rng.random() < 0.7:
        services.append("半日托")
        fees["半日托"] = _round10(full * rng.uniform(0.55, 0.7))
    if rng.random() < (0.8 if form == "家庭托育点" else 0.6):
        services.append("临时托")
        fees["临时托"] = max(40, int(round(full / 22 * rng.uniform(1.0, 1.3))))
    if form != "家庭托育点" and rng.random() < 0.45:
        services.append("计时托")
        fees["计时托"] = max(15, int(round(full / 22 / 8 * rng.uniform(1.6, 2.2))))

    lat, lon = _point(rng, district["boxes"])
    places = plan["places"]
    free = min(places, int(places * rng.uniform(0.05, 0.35)))
    opening = rng.choice(["周一至周五 07:30-17:30", "周一至周五 08:00-18:00", "周一至周六 07:30-18:00"])
    filing = "已备案" if rng.random() < 0.92 or form in ("托育综合服务中心", "幼儿园托班") else "备案中"
    return {
        "external_id": f"{DEMO_PREFIX}{city['key']}:{district['key']}:{number:03d}",
        "name": f"{name}{DEMO_MARK}",
        "city": city["city"],
        "district": district["name"],
        "address": f"{city['city']}{district['name']}{road}{rng.randint(1, 399)}号",
        "lat": lat,
        "lon": lon,
        "legal_nature": nature,
        "form": form,
        "puhui": puhui,
        "filing_status": filing,
        "age_min_months": age_min,
        "age_max_months": age_max,
        "classes": classes,
        "services": services,
        "fees": fees,
        "total_places": places,
        "free_places": free,
        # Local numbers never start with 0: these cannot ring a real phone.
        "phone": f"{city['area_code']}-0{rng.randint(0, 999999):06d}",
        "opening_hours": opening,
        "is_demo": True,
    }


def _session_rows(institution_id: int, external_id: str, inst: dict, day: date, seed: int) -> list[dict]:
    """Sessions of one demo institution on one day (deterministic for seed, institution and date)."""
    open_days = open_weekdays(inst.get("opening_hours")) or frozenset(range(6))
    if day.weekday() not in open_days:
        return []  # the card's opening days and the bookable sessions agree
    rng = random.Random(f"{seed}:{external_id}:{day.isoformat()}")
    if rng.random() < 0.15:
        return []
    rows = []
    fees = inst["fees"]
    common = {"institution_id": institution_id, "date": day, "booked": 0, "is_demo": True}
    if "临时托" in fees:
        for start, end in rng.sample(TEMP_TEMPLATES, k=rng.randint(1, 2)):
            half_day = session_length("临时托", start, end).kind == "half_day"
            rows.append(
                common
                | {
                    "service": "临时托",
                    "start_time": start,
                    "end_time": end,
                    "age_min_months": inst["age_min_months"],
                    "age_max_months": inst["age_max_months"],
                    "capacity": rng.randint(2, 8),
                    "price": float(fees["临时托"]) if half_day else full_day_fee(fees["临时托"]),
                }
            )
    if "计时托" in fees:
        start, end = rng.choice(HOURLY_TEMPLATES)
        hours = (end.hour * 60 + end.minute - start.hour * 60 - start.minute) / 60
        rows.append(
            common
            | {
                "service": "计时托",
                "start_time": start,
                "end_time": end,
                "age_min_months": max(inst["age_min_months"], 12),
                "age_max_months": inst["age_max_months"],
                "capacity": rng.randint(2, 6),
                "price": float(round(fees["计时托"] * hours)),
            }
        )
    rows.sort(key=lambda r: r["start_time"])
    return rows


def generate_demo(
    *, session: Session, today: date | None = None, days: int = 14, seed: int = DEMO_SEED
) -> DemoReport:
    """Create or refresh the demo institutions and their sessions for `today` .. `today + days - 1`.

    Deterministic: the same seed gives the same institutions; the same (seed, institution, date) gives the
    same sessions. Idempotent and booking-preserving (see the module docstring).
    """
    today = today or local_today()
    report = DemoReport()
    wanted = _institution_rows(seed)
    now = utcnow()
    table = Institution.__table__
    existing = {
        row.external_id: row.id
        for row in session.execute(
            select(table.c.id, table.c.external_id).where(table.c.external_id.like(f"{DEMO_PREFIX}%"))
        )
    }
    wanted_ids = {row["external_id"] for row in wanted}
    stale = [iid for ext, iid in existing.items() if ext not in wanted_ids]
    if stale:
        session.execute(delete(CareSession.__table__).where(CareSession.__table__.c.institution_id.in_(stale)))
        session.execute(delete(table).where(table.c.id.in_(stale)))
        report.institutions_deleted = len(stale)
    new_rows = [row | {"created_at": now, "updated_at": now} for row in wanted if row["external_id"] not in existing]
    if new_rows:
        session.execute(insert(table), new_rows)
    report.institutions_created = len(new_rows)
    for row in wanted:
        if row["external_id"] in existing:
            session.execute(update(table).where(table.c.id == existing[row["external_id"]]).values(**row))
            report.institutions_updated += 1
    ids = {
        row.external_id: row.id
        for row in session.execute(
            select(table.c.id, table.c.external_id).where(table.c.external_id.like(f"{DEMO_PREFIX}%"))
        )
    }

    sessions = CareSession.__table__
    window = date_range(today, days)
    have: set[tuple[int, date]] = set()
    if window:
        query = (
            select(sessions.c.institution_id, sessions.c.date)
            .where(sessions.c.is_demo.is_(True), sessions.c.date >= window[0], sessions.c.date <= window[-1])
            .distinct()
        )
        have = {(row.institution_id, row.date) for row in session.execute(query)}
    session_rows: list[dict] = []
    for inst in wanted:
        institution_id = ids[inst["external_id"]]
        for day in window:
            if (institution_id, day) not in have:
                session_rows.extend(_session_rows(institution_id, inst["external_id"], inst, day, seed))
    for chunk in _chunks(session_rows, 2000):
        session.execute(insert(sessions), [row | {"created_at": now} for row in chunk])
    report.sessions_created = len(session_rows)
    report.institutions_total = len(wanted)
    report.places_total = sum(row["total_places"] for row in wanted)
    return report


def demo_institution_rows(seed: int = DEMO_SEED) -> list[dict]:
    """The institutions `generate_demo` writes, without touching a database (for tests and previews)."""
    return _institution_rows(seed)


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- Bulk data for benchmarks ----------------------------------------------------------------------------------

#: (name, lat, lon, weight): city centres the bulk generator scatters institutions around.
BULK_CITIES = [
    ("北京", 39.9042, 116.4074, 10), ("上海", 31.2304, 121.4737, 10), ("广州", 23.1291, 113.2644, 8),
    ("深圳", 22.5431, 114.0579, 8), ("成都", 30.5728, 104.0668, 7), ("重庆", 29.5630, 106.5516, 7),
    ("杭州", 30.2741, 120.1551, 6), ("武汉", 30.5928, 114.3055, 6), ("西安", 34.3416, 108.9398, 5),
    ("南京", 32.0603, 118.7969, 5), ("天津", 39.3434, 117.3616, 5), ("苏州", 31.2989, 120.5853, 5),
    ("郑州", 34.7466, 113.6253, 5), ("长沙", 28.2282, 112.9388, 4), ("沈阳", 41.8057, 123.4315, 4),
    ("青岛", 36.0671, 120.3826, 4), ("济南", 36.6512, 117.1201, 4), ("合肥", 31.8206, 117.2272, 4),
    ("福州", 26.0745, 119.2965, 3), ("厦门", 24.4798, 118.0894, 3), ("张家港", 31.8753, 120.5556, 2),
    ("昆明", 25.0389, 102.7183, 3), ("哈尔滨", 45.8038, 126.5349, 3), ("大连", 38.9140, 121.6147, 3),
    ("南宁", 22.8170, 108.3665, 3), ("石家庄", 38.0428, 114.5149, 3), ("太原", 37.8706, 112.5489, 3),
    ("南昌", 28.6820, 115.8579, 3), ("贵阳", 26.6470, 106.6302, 3), ("宁波", 29.8683, 121.5440, 3),
    ("无锡", 31.4912, 120.3119, 3), ("佛山", 23.0215, 113.1214, 3), ("东莞", 23.0207, 113.7518, 3),
    ("温州", 27.9943, 120.6994, 2), ("泉州", 24.8741, 118.6757, 2), ("台州", 28.6564, 121.4208, 2),
    ("大庆", 46.5893, 125.1035, 1), ("兰州", 36.0611, 103.8343, 2), ("乌鲁木齐", 43.8256, 87.6168, 2),
    ("呼和浩特", 40.8424, 111.7490, 1), ("海口", 20.0440, 110.1999, 1), ("银川", 38.4872, 106.2309, 1),
]  # fmt: skip


def generate_bulk(n: int, *, session: Session, seed: int = 7, spread_km: float = 12.0, batch: int = 5000) -> int:
    """Insert `n` synthetic institutions (is_demo, external_id "bulk:...") around Chinese city centres.

    Gaussian scatter of `spread_km` around each centre, cities weighted by size. Returns rows inserted.
    For benchmarks: nothing else in the app depends on these rows.
    """
    rng = random.Random(seed)
    names = [c[0] for c in BULK_CITIES]
    weights = [c[3] for c in BULK_CITIES]
    centres = {c[0]: (c[1], c[2]) for c in BULK_CITIES}
    deg = spread_km / 111.0
    table = Institution.__table__
    now = utcnow()
    service_sets = [["全日托"], ["全日托", "半日托"], ["全日托", "临时托"], ["全日托", "半日托", "临时托", "计时托"]]
    start = 0
    start = session.execute(select(table.c.id).order_by(table.c.id.desc()).limit(1)).scalar() or 0
    inserted = 0
    while inserted < n:
        rows = []
        for _ in range(min(batch, n - inserted)):
            city = rng.choices(names, weights=weights, k=1)[0]
            clat, clon = centres[city]
            lat = clat + rng.gauss(0, deg)
            lon = clon + rng.gauss(0, deg) / max(0.2, math.cos(math.radians(clat)))
            puhui = rng.random() < 0.8
            full = _round10(rng.gauss(1800 if puhui else 2800, 300))
            services = rng.choice(service_sets)
            fees = {"全日托": full}
            if "半日托" in services:
                fees["半日托"] = _round10(full * 0.6)
            if "临时托" in services:
                fees["临时托"] = int(full / 20)
            if "计时托" in services:
                fees["计时托"] = int(full / 100)
            places = rng.randint(5, 150)
            inserted += 1
            rows.append(
                {
                    "external_id": f"bulk:{seed}:{start + inserted}",
                    "name": f"{city}示例托育机构{start + inserted}{DEMO_MARK}",
                    "city": f"{city}市",
                    "district": f"{city}片区{rng.randint(1, 12)}",
                    "address": "",
                    "lat": round(lat, 6),
                    "lon": round(lon, 6),
                    "legal_nature": "事业单位" if puhui and rng.random() < 0.4 else "营利性",
                    "form": "独立托育机构",
                    "puhui": puhui,
                    "filing_status": "已备案",
                    "age_min_months": rng.choice([6, 12, 18, 24]),
                    "age_max_months": 36,
                    "classes": ["托小班", "托大班"],
                    "services": services,
                    "fees": fees,
                    "total_places": places,
                    "free_places": rng.randint(0, places),
                    "phone": "",
                    "opening_hours": "",
                    "is_demo": True,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        session.execute(insert(table), rows)
    return inserted
