"""Demo data: deterministic, annex-2 proportional, ~85% 普惠 places, prices around 1787, idempotent,
booking-preserving; bulk generation for the benchmark."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from db.care.demo_data import DEMO_MARK, demo_institution_rows, generate_bulk, generate_demo
from db.care.geo import haversine_km
from db.care.institutions import get_session, load_places, load_zhangjiagang_annex2
from db.care.search import find_place, search_nearby
from db.core.engine import run_unit, session_scope
from db.core.timeutil import SHANGHAI
from db.models import CareSession, Institution
from tests.db_fixtures import book

TODAY = date(2030, 3, 4)  # a Monday
NOW = datetime(2030, 3, 4, 7, 0, tzinfo=SHANGHAI)
XIAMEN_DISTRICTS = {"思明区", "湖里区", "集美区", "海沧区", "同安区", "翔安区"}


@pytest.fixture(scope="module")
def rows():
    return demo_institution_rows()


def test_rows_are_deterministic(rows):
    assert demo_institution_rows() == rows
    assert demo_institution_rows(seed=1) != rows


def test_covers_the_required_places(rows):
    xiamen = {r["district"] for r in rows if r["city"] == "厦门市"}
    assert xiamen == XIAMEN_DISTRICTS
    zjg = {r["district"] for r in rows if r["city"] == "张家港市"}
    assert {"杨舍镇", "保税区", "锦丰镇", "塘桥镇", "乐余镇", "凤凰镇", "南丰镇", "大新镇", "常阴沙现代农业示范园区"} == zjg


def test_zhangjiagang_places_follow_annex_2(rows):
    annex = load_zhangjiagang_annex2()
    assert sum(annex["places"].values()) == annex["city_total"] == 6520
    per_district = defaultdict(int)
    for r in rows:
        if r["city"] == "张家港市":
            per_district[r["district"]] += r["total_places"]
    zjg = next(c for c in load_places() if c["city"] == "张家港市")
    for district in zjg["districts"]:
        assert per_district[district["name"]] == annex["places"][district["annex2"]], district["name"]
    # proportional (factor 1): the shares equal the annex's shares
    total = sum(per_district.values())
    assert total == 6520
    assert per_district["杨舍镇"] / total == pytest.approx(2730 / 6520)


def test_puhui_share_and_prices(rows):
    for city in ("厦门市", "张家港市"):
        city_rows = [r for r in rows if r["city"] == city]
        places = sum(r["total_places"] for r in city_rows)
        puhui = sum(r["total_places"] for r in city_rows if r["puhui"])
        assert 0.85 <= puhui / places <= 0.90, city
        puhui_fee = [r["fees"]["全日托"] for r in city_rows if r["puhui"]]
        private_fee = [r["fees"]["全日托"] for r in city_rows if not r["puhui"]]
        assert sum(puhui_fee) / len(puhui_fee) < sum(private_fee) / len(private_fee)
    zjg = [r for r in rows if r["city"] == "张家港市"]
    weighted = sum(r["fees"]["全日托"] * r["total_places"] for r in zjg) / sum(r["total_places"] for r in zjg)
    assert abs(weighted - 1787) < 60  # the annex's average full-day price


def test_plausible_records(rows):
    places = {(c["city"], d["name"]): d for c in load_places() for d in c["districts"]}
    for r in rows:
        district = places[(r["city"], r["district"])]
        assert any(b[0] <= r["lat"] <= b[1] and b[2] <= r["lon"] <= b[3] for b in district["boxes"]), r["name"]
        assert haversine_km(r["lat"], r["lon"], *district["centre"]) < 15
        assert r["is_demo"] and r["external_id"].startswith("demo:") and r["name"].endswith(DEMO_MARK)
        assert set(r["fees"]) == set(r["services"]) and "全日托" in r["services"]
        assert 0 <= r["free_places"] <= r["total_places"]
        assert r["age_min_months"] < r["age_max_months"] <= 36
    assert len({r["external_id"] for r in rows}) == len(rows)
    assert len({(r["city"], r["name"]) for r in rows}) == len(rows)


def _snapshot(engine):
    with session_scope(engine) as session:
        insts = session.execute(select(Institution).order_by(Institution.external_id)).scalars().all()
        sessions = session.execute(
            select(Institution.external_id, CareSession)
            .join(Institution, Institution.id == CareSession.institution_id)
            .order_by(Institution.external_id, CareSession.date, CareSession.start_time, CareSession.service)
        ).all()
        return (
            [(i.external_id, i.name, i.lat, i.lon, i.fees, i.puhui, i.total_places) for i in insts],
            sorted((ext, s.date, s.start_time, s.end_time, s.service, s.capacity, s.price) for ext, s in sessions),
        )


def test_generate_is_idempotent_and_keeps_bookings(db_engine):
    first = run_unit(db_engine, generate_demo, today=TODAY, days=14)
    assert first.institutions_created == len(demo_institution_rows()) and first.sessions_created > 500
    snapshot = _snapshot(db_engine)
    sessions = snapshot[1]
    assert {s[1] for s in sessions} <= {date(2030, 3, d) for d in range(4, 18)}
    assert all(s[1].weekday() != 6 for s in sessions)  # no Sunday sessions
    assert {s[4] for s in sessions} == {"临时托", "计时托"}

    place = find_place("思明")
    page = run_unit(db_engine, search_nearby, place.lat, place.lon, radius_km=3, service="临时托", now=NOW)
    care = page.results[0].sessions[0]
    booking = book(db_engine, care.session_id, 42, max(care.age_min_months, 24), now=NOW)

    second = run_unit(db_engine, generate_demo, today=TODAY, days=14)
    assert second.institutions_created == 0 and second.sessions_created == 0
    assert _snapshot(db_engine) == snapshot
    assert run_unit(db_engine, get_session, care.session_id).booked == 1  # the booking survived the refresh
    assert booking.id

    # The next day adds one more day of sessions, nothing else.
    third = run_unit(db_engine, generate_demo, today=date(2030, 3, 5), days=14)
    assert third.institutions_created == 0 and third.sessions_created > 0
    with session_scope(db_engine) as session:
        assert session.execute(select(func.count()).select_from(Institution)).scalar_one() == len(
            demo_institution_rows()
        )


def test_generate_is_deterministic_across_databases(db_engine, tmp_path):
    from db.core.engine import make_engine
    from db.core.migrate import upgrade_to_head

    run_unit(db_engine, generate_demo, today=TODAY, days=3)
    other = make_engine(f"sqlite:///{tmp_path / 'other.sqlite3'}")
    upgrade_to_head(other)
    run_unit(other, generate_demo, today=TODAY, days=3)
    assert _snapshot(db_engine) == _snapshot(other)
    other.dispose()


def test_generate_bulk(db_engine):
    assert run_unit(db_engine, generate_bulk, 3000, seed=3) == 3000
    with session_scope(db_engine) as session:
        assert session.execute(select(func.count()).select_from(Institution)).scalar_one() == 3000
    page = run_unit(db_engine, search_nearby, 31.2304, 121.4737, radius_km=10, now=NOW)  # Shanghai centre
    assert page.total > 0
    assert all(r.distance_km <= 10 for r in page.results)
