"""What a forged button can reach in the database, on SQLite and PostgreSQL: the largest id a button may carry
finds nothing (no overflow), another parent's booking cannot be cancelled, a session added from checked
/addsession arguments lands at the chosen centre only, and demo sessions follow the opening days."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from bot.callbacks import MAX_ID
from db.care.booking import BookingError, cancel_booking, get_booking
from db.care.demo_data import generate_demo
from db.care.institutions import get_institution, get_session, list_sessions
from db.care.prices import open_weekdays
from db.care.search import search_by_district
from db.care.session_spec import parse_session_spec
from db.core.engine import run_unit, session_scope
from db.core.timeutil import SHANGHAI
from tests.db_fixtures import add_care_session, book, make_institution, make_session

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)
TODAY = NOW.date()
TOMORROW = TODAY + timedelta(days=1)


def test_the_largest_button_id_finds_nothing(db_engine):
    assert run_unit(db_engine, get_institution, MAX_ID) is None
    assert run_unit(db_engine, get_session, MAX_ID) is None
    assert run_unit(db_engine, get_booking, MAX_ID) is None
    with pytest.raises(BookingError) as caught:
        run_unit(db_engine, cancel_booking, MAX_ID, 1, now=NOW)
    assert caught.value.code == "not_found"
    with pytest.raises(BookingError) as caught:
        book(db_engine, MAX_ID, 1, 24, now=NOW)
    assert caught.value.code == "not_found"


def test_another_parents_booking_cannot_be_cancelled(db_engine):
    inst = make_institution(db_engine)
    sid = make_session(db_engine, inst, TOMORROW, capacity=2)
    theirs = book(db_engine, sid, 111, 24, now=NOW)
    with pytest.raises(BookingError) as caught:
        run_unit(db_engine, cancel_booking, theirs.id, 222, now=NOW)
    assert caught.value.code == "not_found"
    assert run_unit(db_engine, get_booking, theirs.id).status == "confirmed"
    assert run_unit(db_engine, get_session, sid).booked == 1


def test_checked_spec_is_added_to_the_chosen_centre_only(db_engine):
    first = make_institution(db_engine, operator_user_id=77)
    second = make_institution(db_engine, name="第二家", operator_user_id=77)
    spec = parse_session_spec([TOMORROW.isoformat(), "14:00-17:00", "临时托", "4", "100"], TODAY)
    add_care_session(
        db_engine, second, service=spec.service, day=spec.day, start_time=spec.start, end_time=spec.end,
        capacity=spec.capacity, price=spec.price, operator_user_id=77, now=NOW,
    )
    assert [s.start_time for s in run_unit(db_engine, list_sessions, second, date_from=TOMORROW, now=NOW)] == [time(14)]
    assert run_unit(db_engine, list_sessions, first, date_from=TOMORROW, now=NOW) == []
    with pytest.raises(BookingError) as caught:  # not this operator's centre
        add_care_session(
            db_engine, first, service="临时托", day=TOMORROW, start_time=time(9), end_time=time(12), capacity=1,
            price=1, operator_user_id=78, now=NOW,
        )
    assert caught.value.code == "forbidden"


def test_demo_sessions_follow_opening_days_and_reduction_search_works(db_engine):
    run_unit(db_engine, generate_demo, today=date(2026, 11, 23), days=7)  # Monday … Sunday
    from sqlalchemy import select

    from db.models import CareSession, Institution

    with session_scope(db_engine) as session:
        rows = session.execute(
            select(CareSession.date, Institution.opening_hours).join(Institution, Institution.id == CareSession.institution_id)
        ).all()
    assert rows and all(day.weekday() in open_weekdays(opening) for day, opening in rows)
    page = run_unit(db_engine, search_by_district, "杨舍", reduction_key="困境婴幼儿", limit=5, now=NOW)
    assert page.total > 0 and page.reduction is not None
    assert any(r.reduction is not None and r.price == r.base_price - 500 for r in page.results)


@pytest.mark.parametrize("bad", [0, -1, MAX_ID + 1, 10**20, True])
def test_impossible_ids_never_reach_sql(db_engine, bad):
    from db.care.institutions import set_operator

    assert run_unit(db_engine, get_institution, bad) is None and run_unit(db_engine, get_session, bad) is None
    assert run_unit(db_engine, get_booking, bad) is None and run_unit(db_engine, set_operator, bad, 1) is False
    for call in (lambda: run_unit(db_engine, cancel_booking, bad, 1, now=NOW), lambda: book(db_engine, bad, 1, 24, now=NOW)):
        with pytest.raises(BookingError) as caught:
            call()
        assert caught.value.code == "not_found"
