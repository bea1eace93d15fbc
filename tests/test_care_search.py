"""Nearby search: distance order, filters, the bounding box at the radius edge, pagination, district names,
fee reductions with their source."""

from __future__ import annotations

import math
import random
from datetime import date, datetime

import pytest

from db.care.geo import EARTH_RADIUS_KM, bounding_box, haversine_km
from db.care.search import SearchError, find_place, search_by_district, search_nearby
from db.core.engine import run_unit
from db.core.timeutil import SHANGHAI
from tests.db_fixtures import make_institution, make_session

NOW = datetime(2030, 3, 4, 8, 0, tzinfo=SHANGHAI)  # a Monday morning
TODAY = NOW.date()
CENTRE = (24.4620, 118.1180)


def offset_point(lat: float, lon: float, km: float, bearing_deg: float) -> tuple[float, float]:
    """The point `km` away from (lat, lon) along `bearing_deg` (great circle)."""
    d = km / EARTH_RADIUS_KM
    b = math.radians(bearing_deg)
    p1, l1 = math.radians(lat), math.radians(lon)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    l2 = l1 + math.atan2(math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2))
    return math.degrees(p2), math.degrees(l2)


# --- pure geometry ---------------------------------------------------------------------------------------------


def test_haversine_known_distance():
    assert haversine_km(0, 0, 1, 0) == pytest.approx(111.195, abs=0.01)  # one degree of latitude
    assert haversine_km(0, 0, 0, 1) == pytest.approx(111.195, abs=0.01)  # one degree of longitude at the equator
    # Xiamen centre to Zhangjiagang centre: 7.4° north, 2.5° east — about 857 km.
    assert 850 < haversine_km(24.4798, 118.0894, 31.8753, 120.5556) < 865
    assert haversine_km(*CENTRE, *CENTRE) == 0


@pytest.mark.parametrize("lat", [0.0, 24.46, 31.87, 53.0, 75.0])
def test_bounding_box_contains_every_point_of_the_circle(lat):
    rng = random.Random(1)
    for radius in (0.5, 5, 50):
        box = bounding_box(lat, 120.0, radius)
        for _ in range(300):
            plat, plon = offset_point(lat, 120.0, radius * rng.uniform(0.0, 1.0), rng.uniform(0, 360))
            assert box.min_lat <= plat <= box.max_lat
            assert box.min_lon <= plon <= box.max_lon
        # exactly on the circle, every direction
        for bearing in range(0, 360, 5):
            plat, plon = offset_point(lat, 120.0, radius, bearing)
            assert box.min_lat <= plat <= box.max_lat and box.min_lon <= plon <= box.max_lon


def test_bounding_box_is_tight():
    box = bounding_box(*CENTRE, 5)
    north = offset_point(*CENTRE, 5.2, 0)[0]
    assert north > box.max_lat  # a bit beyond the radius is outside the box


# --- search ----------------------------------------------------------------------------------------------------


@pytest.fixture
def ring(db_engine):
    """Institutions at known distances (km) from CENTRE, in varied directions."""
    ids = {}
    for km, bearing in [(0.4, 10), (1.0, 200), (2.5, 95), (4.9, 300), (5.1, 45), (8.0, 180), (30.0, 90)]:
        lat, lon = offset_point(*CENTRE, km, bearing)
        ids[km] = make_institution(db_engine, name=f"机构{km}", lat=lat, lon=lon)
    return ids


def test_results_nearest_first_within_radius(db_engine, ring):
    page = run_unit(db_engine, search_nearby, *CENTRE, radius_km=5, now=NOW)
    assert [r.institution_id for r in page.results] == [ring[0.4], ring[1.0], ring[2.5], ring[4.9]]
    distances = [r.distance_km for r in page.results]
    assert distances == sorted(distances)
    assert distances[0] == pytest.approx(0.4, abs=0.01)
    for r in page.results:
        assert r.distance_km == pytest.approx(haversine_km(*CENTRE, r.lat, r.lon), rel=1e-9)
    assert page.total == 4 and not page.has_more


def test_radius_edge(db_engine):
    """Points just inside/outside the radius, in the box corners' directions (where a box is loosest)."""
    inside, outside = [], []
    for bearing in (0, 45, 90, 135, 180, 225, 270, 315):
        inside.append(make_institution(db_engine, lat=offset_point(*CENTRE, 2.995, bearing)[0],
                                       lon=offset_point(*CENTRE, 2.995, bearing)[1]))  # fmt: skip
        outside.append(make_institution(db_engine, lat=offset_point(*CENTRE, 3.005, bearing)[0],
                                        lon=offset_point(*CENTRE, 3.005, bearing)[1]))  # fmt: skip
    page = run_unit(db_engine, search_nearby, *CENTRE, radius_km=3, limit=50, now=NOW)
    found = {r.institution_id for r in page.results}
    assert found == set(inside)


def test_pagination(db_engine, ring):
    first = run_unit(db_engine, search_nearby, *CENTRE, radius_km=10, limit=2, now=NOW)
    second = run_unit(db_engine, search_nearby, *CENTRE, radius_km=10, limit=2, offset=2, now=NOW)
    third = run_unit(db_engine, search_nearby, *CENTRE, radius_km=10, limit=2, offset=4, now=NOW)
    assert first.total == second.total == third.total == 6
    assert first.has_more and second.has_more and not third.has_more
    ids = [r.institution_id for p in (first, second, third) for r in p.results]
    assert ids == [ring[k] for k in (0.4, 1.0, 2.5, 4.9, 5.1, 8.0)]
    beyond = run_unit(db_engine, search_nearby, *CENTRE, radius_km=10, limit=2, offset=10, now=NOW)
    assert beyond.results == [] and beyond.total == 6


def test_filters_age_puhui_price_service(db_engine):
    near = offset_point(*CENTRE, 1, 0)
    cheap = make_institution(db_engine, lat=near[0], lon=near[1], puhui=True, fees={"全日托": 1500, "临时托": 80},
                             services=["全日托", "临时托"], age_min_months=12, age_max_months=36)  # fmt: skip
    dear = make_institution(db_engine, lat=near[0] + 0.001, lon=near[1], puhui=False, fees={"全日托": 3200},
                            services=["全日托"], age_min_months=6, age_max_months=36)  # fmt: skip
    halfday = make_institution(db_engine, lat=near[0] + 0.002, lon=near[1], puhui=True,
                               fees={"半日托": 900}, services=["半日托"], age_min_months=24)  # fmt: skip

    def ids(**kw):
        return [r.institution_id for r in run_unit(db_engine, search_nearby, *CENTRE, radius_km=5, now=NOW, **kw).results]

    assert ids() == [cheap, dear, halfday]
    assert ids(age_months=8) == [dear]
    assert ids(age_months=30) == [cheap, dear, halfday]
    assert ids(puhui_only=True) == [cheap, halfday]
    assert ids(max_price=2000) == [cheap]  # 全日托 price; halfday has no 全日托 price
    assert ids(service="半日托", max_price=1000) == [halfday]
    assert ids(service="临时托") == [cheap]
    assert ids(service="临时托", max_price=50) == []
    page = run_unit(db_engine, search_nearby, *CENTRE, radius_km=5, service="半日托", now=NOW)
    assert page.results[0].price == 900 and page.results[0].price_service == "半日托"


def test_sessions_shown_and_date_filter(db_engine):
    a = make_institution(db_engine, lat=CENTRE[0] + 0.001, lon=CENTRE[1])
    b = make_institution(db_engine, lat=CENTRE[0] + 0.002, lon=CENTRE[1])
    tomorrow = date(2030, 3, 5)
    s_open = make_session(db_engine, a, tomorrow, "09:00", "12:00", capacity=3)
    make_session(db_engine, a, tomorrow, "14:00", "17:00", capacity=2, booked=2)  # full: not shown
    make_session(db_engine, a, TODAY, "07:00", "07:30")  # already started at NOW: not shown
    s_today_later = make_session(db_engine, a, TODAY, "14:00", "16:00")
    s_hourly = make_session(db_engine, b, date(2030, 3, 6), "09:00", "11:00", service="计时托", price=60,
                            age_min_months=24, age_max_months=36)  # fmt: skip

    page = run_unit(db_engine, search_nearby, *CENTRE, radius_km=2, now=NOW)
    by_id = {r.institution_id: r for r in page.results}
    assert [s.session_id for s in by_id[a].sessions] == [s_today_later, s_open]
    assert by_id[a].sessions[1].free == 3
    assert [s.session_id for s in by_id[b].sessions] == [s_hourly]

    on_date = run_unit(db_engine, search_nearby, *CENTRE, radius_km=2, date=tomorrow, now=NOW)
    assert [r.institution_id for r in on_date.results] == [a]
    assert [s.session_id for s in on_date.results[0].sessions] == [s_open]

    hourly = run_unit(db_engine, search_nearby, *CENTRE, radius_km=2, service="计时托", date=date(2030, 3, 6), now=NOW)
    assert [r.institution_id for r in hourly.results] == [b]
    young = run_unit(db_engine, search_nearby, *CENTRE, radius_km=2, date=date(2030, 3, 6), age_months=12, now=NOW)
    assert young.results == []
    full_day = run_unit(db_engine, search_nearby, *CENTRE, radius_km=2, service="全日托", now=NOW)
    assert all(r.sessions == [] for r in full_day.results)


def test_json_shape(db_engine):
    inst = make_institution(db_engine, lat=CENTRE[0] + 0.001, lon=CENTRE[1], fees={"全日托": 1800, "临时托": 99.5})
    make_session(db_engine, inst, date(2030, 3, 5), "09:00", "12:00", capacity=4, booked=1, price=99.5)
    out = run_unit(db_engine, search_nearby, *CENTRE, now=NOW).to_dict()
    assert list(out) == ["results"]
    result = out["results"][0]
    assert set(result) == {"institution_id", "name", "district", "distance_km", "puhui", "prices", "sessions"}
    assert result["prices"] == {"全日托": 1800, "临时托": 99.5}
    assert result["sessions"] == [
        {"session_id": result["sessions"][0]["session_id"], "date": "2030-03-05", "start": "09:00", "end": "12:00",
         "price": 99.5, "capacity": 4, "free": 3}
    ]  # fmt: skip


def test_reduction_applies_in_its_city_only_and_names_source(db_engine):
    zjg = find_place("杨舍镇")
    in_zjg = make_institution(db_engine, city="张家港市", district="杨舍镇", lat=zjg.lat, lon=zjg.lon,
                              fees={"全日托": 1700, "临时托": 90})  # fmt: skip
    page = run_unit(db_engine, search_nearby, zjg.lat, zjg.lon, reduction_key="困境婴幼儿", max_price=1300, now=NOW)
    assert [r.institution_id for r in page.results] == [in_zjg]
    result = page.results[0]
    assert result.base_price == 1700 and result.price == 1200
    assert "张家港市普惠托育服务发展示范项目工作方案" in result.reduction.source
    assert result.reduction.amount == 500
    as_json = page.to_dict(with_reduction=True)["results"][0]["reduction"]
    assert as_json["price_after"] == 1200 and as_json["amount"] == 500
    # Without the reduction the budget excludes it; per-session services are not reduced.
    assert run_unit(db_engine, search_nearby, zjg.lat, zjg.lon, max_price=1300, now=NOW).results == []
    temp = run_unit(db_engine, search_nearby, zjg.lat, zjg.lon, reduction_key="困境婴幼儿", service="临时托", now=NOW)
    assert temp.results[0].price == 90 and temp.results[0].reduction is None
    # Not in Xiamen.
    xm = make_institution(db_engine, lat=CENTRE[0], lon=CENTRE[1], fees={"全日托": 1700})
    xm_page = run_unit(db_engine, search_nearby, *CENTRE, reduction_key="hardship", now=NOW)
    assert xm_page.results[0].institution_id == xm and xm_page.results[0].price == 1700


@pytest.mark.parametrize(
    "bad",
    [
        {"lat": 91, "lon": 0},
        {"lat": float("nan"), "lon": 0},
        {"radius_km": 0},
        {"radius_km": 1000},
        {"age_months": -1},
        {"service": "夜托"},
        {"limit": 0},
        {"offset": -1},
        {"max_price": -5},
        {"reduction_key": "不存在的减免"},
    ],
)
def test_bad_input_is_a_clear_error(db_engine, bad):
    args = {"lat": CENTRE[0], "lon": CENTRE[1]} | bad
    lat, lon = args.pop("lat"), args.pop("lon")
    with pytest.raises(SearchError) as info:
        run_unit(db_engine, search_nearby, lat, lon, now=NOW, **args)
    assert info.value.code == "invalid"


# --- district names --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "city", "district"),
    [
        ("思明", "厦门市", "思明区"),
        ("思明區", "厦门市", "思明区"),
        ("Siming", "厦门市", "思明区"),
        ("siming district", "厦门市", "思明区"),
        ("Huli", "厦门市", "湖里区"),
        ("湖裡區", "厦门市", "湖里区"),
        ("厦门市湖里区", "厦门市", "湖里区"),
        ("Xiamen Jimei", "厦门市", "集美区"),
        ("海滄", "厦门市", "海沧区"),
        ("Tong'an", "厦门市", "同安区"),
        ("xiangan", "厦门市", "翔安区"),
        ("杨舍镇", "张家港市", "杨舍镇"),
        ("楊舍", "张家港市", "杨舍镇"),
        ("金港街道", "张家港市", "保税区"),
        ("后塍", "张家港市", "保税区"),
        ("Jinfeng", "张家港市", "锦丰镇"),
        ("张家港塘桥镇", "张家港市", "塘桥镇"),
        ("常阴沙", "张家港市", "常阴沙现代农业示范园区"),
        ("厦门", "厦门市", ""),
        ("Zhangjiagang", "张家港市", ""),
    ],
)
def test_find_place(typed, city, district):
    place = find_place(typed)
    assert place is not None, typed
    assert (place.city, place.district) == (city, district)
    assert 20 < place.lat < 35 and 115 < place.lon < 125


@pytest.mark.parametrize("typed", ["", "北京朝阳", "xyz", "区", "a" * 200])
def test_find_place_unknown(typed):
    assert find_place(typed) is None


def test_search_by_district(db_engine):
    huli = find_place("湖里")
    in_huli = make_institution(db_engine, district="湖里区", lat=huli.lat + 0.01, lon=huli.lon)
    in_huli_near = make_institution(db_engine, district="湖里区", lat=huli.lat + 0.001, lon=huli.lon)
    make_institution(db_engine, district="思明区", lat=huli.lat, lon=huli.lon)  # nearer, but another district
    page = run_unit(db_engine, search_by_district, "Huli", now=NOW)
    assert page.place.district == "湖里区"
    assert [r.institution_id for r in page.results] == [in_huli_near, in_huli]
    whole_city = run_unit(db_engine, search_by_district, "厦门", now=NOW)
    assert whole_city.total == 3
    assert run_unit(db_engine, search_by_district, "火星", now=NOW) is None


def test_traditional_place_names_go_through_opencc():
    """Any traditional spelling OpenCC knows finds the place, not only the characters of a hand-made table."""
    from db.care.search import find_place

    assert find_place("廈門市湖裡區") == find_place("厦门市湖里区") is not None
    assert find_place("張家港保稅區") == find_place("张家港保税区") is not None
    assert find_place("錦豐鎮") == find_place("锦丰镇") is not None
