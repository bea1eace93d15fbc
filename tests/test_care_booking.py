"""Booking rules: every error code, idempotent double taps, overlaps, past sessions, ages; cancel frees a place
once; listings, the operator's day, reminders, adding sessions."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from db.care.booking import (
    BookingError,
    bookings_for_institution_day,
    cancel_booking,
    get_booking,
    get_booking_by_code,
    list_bookings,
)
from db.care.booking_notices import due_reminders, mark_reminded
from db.care.care_rules import CODE_ALPHABET
from db.care.institutions import get_session, institutions_of_operator, list_sessions, set_operator
from db.core.engine import run_unit
from db.core.timeutil import SHANGHAI
from tests.db_fixtures import add_care_session, book, make_institution, make_session

NOW = datetime(2030, 3, 4, 8, 0, tzinfo=SHANGHAI)
TOMORROW = date(2030, 3, 5)
PARENT = 5_123_456_789  # Telegram ids exceed 32 bits


@pytest.fixture
def inst(db_engine):
    return make_institution(db_engine)


def code_of(excinfo) -> str:
    return excinfo.value.code


def test_book_confirms_and_takes_a_place(db_engine, inst):
    sid = make_session(db_engine, inst, TOMORROW, capacity=3)
    booking = book(db_engine, sid, PARENT, 20, child_name=" 小  明 ", now=NOW)
    assert booking.status == "confirmed" and booking.id
    assert len(booking.code) == 6 and set(booking.code) <= set(CODE_ALPHABET)
    assert booking.child_name == "小 明"
    assert run_unit(db_engine, get_session, sid).booked == 1
    view = run_unit(db_engine, get_booking, booking.id)
    assert view.institution_id == inst and view.parent_id == PARENT and view.date == TOMORROW
    assert view.starts_at == datetime(2030, 3, 5, 9, 0, tzinfo=SHANGHAI)
    assert run_unit(db_engine, get_booking_by_code, booking.code.lower()).booking_id == booking.id


def test_full(db_engine, inst):
    sid = make_session(db_engine, inst, TOMORROW, capacity=2)
    book(db_engine, sid, 1, 20, now=NOW)
    book(db_engine, sid, 2, 20, now=NOW)
    with pytest.raises(BookingError) as err:
        book(db_engine, sid, 3, 20, now=NOW)
    assert code_of(err) == "full"
    assert run_unit(db_engine, get_session, sid).booked == 2


def test_not_found(db_engine, inst):
    with pytest.raises(BookingError) as err:
        book(db_engine, 999_999, PARENT, 20, now=NOW)
    assert code_of(err) == "not_found"


def test_past_and_started_sessions_rejected_in_shanghai_time(db_engine, inst):
    yesterday = make_session(db_engine, inst, date(2030, 3, 3))
    started = make_session(db_engine, inst, NOW.date(), "07:30", "10:00")
    later_today = make_session(db_engine, inst, NOW.date(), "08:30", "10:00")
    for sid in (yesterday, started):
        with pytest.raises(BookingError) as err:
            book(db_engine, sid, PARENT, 20, now=NOW)
        assert code_of(err) == "past"
    # 00:30 UTC is 08:30 in Shanghai: the 08:30 session has just started.
    with pytest.raises(BookingError) as err:
        book(db_engine, later_today, PARENT, 20, now=datetime(2030, 3, 4, 0, 30, tzinfo=UTC))
    assert code_of(err) == "past"
    assert book(db_engine, later_today, PARENT, 20, now=datetime(2030, 3, 4, 0, 29, tzinfo=UTC)).id


@pytest.mark.parametrize(("age", "ok"), [(11, False), (12, True), (24, True), (25, False)])
def test_age_range(db_engine, inst, age, ok):
    sid = make_session(db_engine, inst, TOMORROW, age_min_months=12, age_max_months=24)
    if ok:
        assert book(db_engine, sid, PARENT, age, now=NOW).id
    else:
        with pytest.raises(BookingError) as err:
            book(db_engine, sid, PARENT, age, now=NOW)
        assert code_of(err) == "age_out_of_range"
        assert run_unit(db_engine, get_session, sid).booked == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"parent_id": 0},
        {"parent_id": -3},
        {"child_age_months": -1},
        {"child_age_months": 200},
        {"child_name": "名" * 40},
        {"idempotency_key": ""},
        {"idempotency_key": "k" * 200},
    ],
)
def test_invalid_input(db_engine, inst, kwargs):
    sid = make_session(db_engine, inst, TOMORROW)
    args = {"parent_id": PARENT, "child_age_months": 20} | kwargs
    with pytest.raises(BookingError) as err:
        book(db_engine, sid, now=NOW, **args)
    assert code_of(err) == "invalid"
    assert run_unit(db_engine, get_session, sid).booked == 0


def test_double_tap_with_same_key_books_once(db_engine, inst):
    sid = make_session(db_engine, inst, TOMORROW, capacity=5)
    first = book(db_engine, sid, PARENT, 20, idempotency_key="tg:42:1001", now=NOW)
    again = book(db_engine, sid, PARENT, 20, idempotency_key="tg:42:1001", now=NOW)
    assert again.id == first.id and again.code == first.code
    assert run_unit(db_engine, get_session, sid).booked == 1
    # The same key from another parent is refused, not silently shared.
    with pytest.raises(BookingError) as err:
        book(db_engine, sid, PARENT + 1, 20, idempotency_key="tg:42:1001", now=NOW)
    assert code_of(err) == "invalid"


def test_same_key_returns_booking_even_after_it_filled_the_session(db_engine, inst):
    sid = make_session(db_engine, inst, TOMORROW, capacity=1)
    first = book(db_engine, sid, PARENT, 20, idempotency_key="k-full", now=NOW)
    assert book(db_engine, sid, PARENT, 20, idempotency_key="k-full", now=NOW).id == first.id


def test_overlap_same_child_across_sessions(db_engine, inst):
    other = make_institution(db_engine, name="另一家")
    morning = make_session(db_engine, inst, TOMORROW, "09:00", "12:00")
    overlapping = make_session(db_engine, other, TOMORROW, "11:00", "13:00")
    adjacent = make_session(db_engine, other, TOMORROW, "12:00", "14:00")
    next_day = make_session(db_engine, inst, TOMORROW + timedelta(days=1), "09:00", "12:00")
    book(db_engine, morning, PARENT, 20, child_name="小明", now=NOW)
    with pytest.raises(BookingError) as err:
        book(db_engine, overlapping, PARENT, 20, child_name="小明", now=NOW)
    assert code_of(err) == "overlap"
    with pytest.raises(BookingError) as err:  # the same session again, without a key
        book(db_engine, morning, PARENT, 20, child_name="小明", now=NOW)
    assert code_of(err) == "overlap"
    assert run_unit(db_engine, get_session, overlapping).booked == 0
    # Another child of the same parent, an adjacent slot, another day, another parent: all fine.
    assert book(db_engine, overlapping, PARENT, 30, child_name="小红", now=NOW).id
    assert book(db_engine, adjacent, PARENT, 20, child_name="小明", now=NOW).id
    assert book(db_engine, next_day, PARENT, 20, child_name="小明", now=NOW).id
    assert book(db_engine, overlapping, PARENT + 1, 20, child_name="小明", now=NOW).id


def test_cancel_frees_the_place_once(db_engine, inst):
    sid = make_session(db_engine, inst, TOMORROW, capacity=1)
    booking = book(db_engine, sid, PARENT, 20, now=NOW)
    with pytest.raises(BookingError) as err:
        book(db_engine, sid, PARENT + 1, 20, now=NOW)
    assert code_of(err) == "full"

    with pytest.raises(BookingError) as err:  # someone else's booking
        run_unit(db_engine, cancel_booking, booking.id, PARENT + 1, now=NOW)
    assert code_of(err) == "not_found"
    cancelled = run_unit(db_engine, cancel_booking, booking.id, PARENT, now=NOW)
    assert cancelled.status == "cancelled" and cancelled.cancelled_at is not None
    assert run_unit(db_engine, get_session, sid).booked == 0
    with pytest.raises(BookingError) as err:
        run_unit(db_engine, cancel_booking, booking.id, PARENT, now=NOW)
    assert code_of(err) == "already_cancelled"
    assert run_unit(db_engine, get_session, sid).booked == 0
    with pytest.raises(BookingError) as err:
        run_unit(db_engine, cancel_booking, 987_654, PARENT, now=NOW)
    assert code_of(err) == "not_found"

    # The freed place can be booked again, and the child may rebook the same session.
    assert book(db_engine, sid, PARENT, 20, now=NOW).id != booking.id
    assert run_unit(db_engine, get_session, sid).booked == 1


def test_cancel_after_start_is_refused(db_engine, inst):
    sid = make_session(db_engine, inst, TOMORROW, "09:00", "12:00")
    booking = book(db_engine, sid, PARENT, 20, now=NOW)
    with pytest.raises(BookingError) as err:
        run_unit(db_engine, cancel_booking, booking.id, PARENT, now=datetime(2030, 3, 5, 9, 30, tzinfo=SHANGHAI))
    assert code_of(err) == "past"
    assert run_unit(db_engine, get_session, sid).booked == 1


def test_list_bookings(db_engine, inst):
    early = make_session(db_engine, inst, TOMORROW, "09:00", "10:00")
    late = make_session(db_engine, inst, TOMORROW + timedelta(days=2), "09:00", "10:00")
    gone = make_session(db_engine, inst, TOMORROW + timedelta(days=1), "09:00", "10:00")
    b_late = book(db_engine, late, PARENT, 20, now=NOW)
    b_early = book(db_engine, early, PARENT, 20, now=NOW)
    b_gone = book(db_engine, gone, PARENT, 20, now=NOW)
    book(db_engine, early, PARENT + 1, 20, now=NOW)
    run_unit(db_engine, cancel_booking, b_gone.id, PARENT, now=NOW)

    upcoming = run_unit(db_engine, list_bookings, PARENT, now=NOW)
    assert [v.booking_id for v in upcoming] == [b_early.id, b_late.id]
    everything = run_unit(db_engine, list_bookings, PARENT, upcoming_only=False, now=NOW)
    assert [v.booking_id for v in everything] == [b_early.id, b_gone.id, b_late.id]
    assert everything[1].status == "cancelled"
    # After the early session ended, it is no longer upcoming.
    later = datetime(2030, 3, 5, 10, 1, tzinfo=SHANGHAI)
    assert [v.booking_id for v in run_unit(db_engine, list_bookings, PARENT, now=later)] == [b_late.id]
    assert set(upcoming[0].to_dict()) >= {"booking_id", "code", "status", "date", "start", "end", "institution"}


def test_operator_side(db_engine, inst):
    operator = 8_000_000_001
    assert run_unit(db_engine, set_operator, inst, operator)
    assert [i.id for i in run_unit(db_engine, institutions_of_operator, operator)] == [inst]

    with pytest.raises(BookingError) as err:
        add_care_session(db_engine, inst, service="临时托", day=TOMORROW, start_time=time(9), end_time=time(12),
                    capacity=4, price=120, operator_user_id=operator + 1, now=NOW)  # fmt: skip
    assert code_of(err) == "forbidden"
    sid = add_care_session(db_engine, inst, service="临时托", day=TOMORROW, start_time=time(9), end_time=time(12),
                      capacity=4, price=120, operator_user_id=operator, now=NOW).id  # fmt: skip
    care = run_unit(db_engine, get_session, sid)
    assert (care.age_min_months, care.age_max_months, care.capacity, care.booked) == (6, 36, 4, 0)

    for bad, expected in [
        ({"service": "全日托"}, "invalid"),
        ({"end_time": time(8)}, "invalid"),
        ({"capacity": 0}, "invalid"),
        ({"price": -1}, "invalid"),
        ({"age_min_months": 2}, "invalid"),
        ({"day": date(2030, 3, 1)}, "past"),
    ]:
        args = dict(service="临时托", day=TOMORROW, start_time=time(9), end_time=time(12), capacity=4, price=1)
        with pytest.raises(BookingError) as err:
            add_care_session(db_engine, inst, now=NOW, **(args | bad))
        assert code_of(err) == expected, bad
    with pytest.raises(BookingError) as err:
        add_care_session(db_engine, 424242, service="临时托", day=TOMORROW, start_time=time(9), end_time=time(12),
                    capacity=4, price=1, now=NOW)  # fmt: skip
    assert code_of(err) == "not_found"

    b1 = book(db_engine, sid, PARENT, 20, child_name="小明", now=NOW)
    b2 = book(db_engine, sid, PARENT + 1, 30, now=NOW)
    run_unit(db_engine, cancel_booking, b2.id, PARENT + 1, now=NOW)
    day = run_unit(db_engine, bookings_for_institution_day, inst, TOMORROW)
    assert [(v.booking_id, v.status) for v in day] == [(b1.id, "confirmed"), (b2.id, "cancelled")]
    assert day[0].operator_user_id == operator
    assert run_unit(db_engine, bookings_for_institution_day, inst, TOMORROW + timedelta(days=1)) == []
    slots = run_unit(db_engine, list_sessions, inst, now=NOW)
    assert [s.session_id for s in slots] == [sid] and slots[0].free == 3


def test_reminders_day_before_once(db_engine, inst):
    tomorrow_sid = make_session(db_engine, inst, TOMORROW, "09:00", "12:00")
    later_sid = make_session(db_engine, inst, TOMORROW + timedelta(days=3), "09:00", "12:00")
    b1 = book(db_engine, tomorrow_sid, PARENT, 20, now=NOW)
    b2 = book(db_engine, tomorrow_sid, PARENT + 1, 20, now=NOW)
    book(db_engine, later_sid, PARENT, 20, now=NOW)
    run_unit(db_engine, cancel_booking, b2.id, PARENT + 1, now=NOW)

    due = run_unit(db_engine, due_reminders, NOW)
    assert [v.booking_id for v in due] == [b1.id]
    assert run_unit(db_engine, mark_reminded, b1.id, NOW) is True
    assert run_unit(db_engine, mark_reminded, b1.id, NOW) is False
    assert run_unit(db_engine, due_reminders, NOW) == []
    # "Tomorrow" is in Shanghai: 2030-03-03 17:00 UTC is already 03-04 01:00 there.
    assert run_unit(db_engine, due_reminders, datetime(2030, 3, 3, 17, 0, tzinfo=UTC)) == []
    assert run_unit(db_engine, get_booking, b1.id).reminded_at is not None
